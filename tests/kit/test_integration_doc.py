"""docs/INTEGRATION.md's command blocks run as written: the walk-through against a mosquitto,
the SMSC simulator and the daemon it starts itself, the TLS block against a TLS broker with a
login; its JSON examples fit the schemas and its shown output is what the commands print."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from gateway.kit.schemas import schema
from tests.support.asyncapi_document import ROOT
from tests.support.broker import Broker, find_mosquitto, free_port, make_certificates
from tests.support.daemon import DAEMON_LOGS

GUIDE = ROOT / "docs" / "INTEGRATION.md"
COMMAND_LANGUAGES = {"sh", "bash", "shell", "console"}
RUN_MARK = re.compile(r"<!-- run: (\w+) -->")
OUTPUT_MARK = "<!-- output of the block above -->"
FINAL = {"delivered", "undeliverable", "expired", "failed", "rejected", "skipped"}


@dataclass(frozen=True, slots=True)
class Block:
    language: str
    text: str
    mark: str  # the line before the fence


def blocks() -> list[Block]:
    found: list[Block] = []
    lines = GUIDE.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("```"):
            language = lines[i][3:].strip()
            end = lines.index("```", i + 1)
            mark = lines[i - 1] if i else ""
            found.append(Block(language, "\n".join(lines[i + 1 : end]) + "\n", mark))
            i = end + 1
        else:
            i += 1
    return found


def run_kind(block: Block) -> str | None:
    """`walkthrough` or `tls` for a block marked to run, else None."""
    mark = RUN_MARK.fullmatch(block.mark)
    return mark[1] if mark else None


def commands(kind: str) -> list[Block]:
    return [b for b in blocks() if run_kind(b) == kind]


def _environment(**extra: str) -> dict[str, str]:
    """The environment of a developer with the gateway's .venv active and mosquitto's
    directory on PATH."""
    venv = str(Path(sys.executable).parent)
    path = os.pathsep.join([venv, os.environ.get("PATH", ""), "/usr/sbin"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_SMS_")}
    return {**env, "PATH": path, **extra}


def run_blocks(
    texts: list[str], cwd: Path, env: dict[str, str], timeout: float = 120
) -> list[tuple[int, str]]:
    """The blocks in one bash, in order, as a developer pastes them into one terminal:
    (exit status, standard output) of each. Whatever they leave running is ended."""
    script = "".join(f"{text}printf '\\n@@end %s\\n' \"$?\"\n" for text in texts)
    (cwd / "walkthrough.sh").write_text(script, encoding="utf-8")
    shell = subprocess.Popen(
        ["bash", "walkthrough.sh"], cwd=cwd, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, start_new_session=True, text=True,
    )  # fmt: skip
    try:
        out, err = shell.communicate(timeout=timeout)
    finally:
        # Only this test's own process group: the shell and what it started.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(shell.pid, signal.SIGKILL)
        shell.wait()
    parts = out.split("\n@@end ")
    results = []
    for before, after in itertools.pairwise(parts):
        code = int(after.split("\n", 1)[0])
        results.append((code, before.split("\n", 1)[-1] if results else before))
    assert len(results) == len(texts), f"the walk-through stopped early: {err[-2000:]}"
    return results


def test_every_command_block_is_run_by_a_test():
    runnable = [b for b in blocks() if b.language in COMMAND_LANGUAGES]
    unmarked = [b.text[:60] for b in runnable if run_kind(b) is None]
    kinds = {run_kind(b) for b in runnable}

    assert unmarked == []
    assert kinds == {"walkthrough", "tls"}
    assert all(b.language for b in blocks()), (
        "a block without a language is neither run nor checked"
    )


@pytest.fixture(scope="module")
def walkthrough(tmp_path_factory) -> tuple[list[tuple[int, str]], Path]:
    if find_mosquitto() is None or shutil.which("mosquitto_sub") is None:
        pytest.fail("mosquitto and mosquitto-clients are needed (apt-get install ...)")
    work = tmp_path_factory.mktemp("integration")
    env = _environment(
        MQTT_PORT=str(free_port()), SMSC_PORT=str(free_port()), ADMIN_PORT=str(free_port())
    )
    results = run_blocks([b.text for b in commands("walkthrough")], work, env)
    # The daemon's log joins the run's personal-data and status-schema checks.
    DAEMON_LOGS.mkdir(exist_ok=True)
    if (work / "gateway.log").exists():
        shutil.copy(work / "gateway.log", DAEMON_LOGS / f"integration-doc-{work.name}.log")
    return results, work


def _block_output(walkthrough, needle: str) -> tuple[int, str]:
    results, _ = walkthrough
    texts = [b.text for b in commands("walkthrough")]
    [index] = [i for i, text in enumerate(texts) if needle in text]
    return results[index]


def test_every_walkthrough_block_succeeds(walkthrough):
    results, work = walkthrough

    log = (work / "gateway.log").read_text(encoding="utf-8")
    assert [code for code, _ in results] == [0] * len(results), log[-3000:]


def test_the_walkthroughs_statuses_are_the_ones_the_guide_describes(walkthrough):
    _, out = _block_output(walkthrough, "-C 10")
    statuses = [json.loads(line) for line in out.splitlines() if line.strip()]
    finals = {s["id"]: (s["state"], s["reason"]) for s in statuses if s["state"] in FINAL}

    assert len(statuses) == 10
    assert finals == {
        "SCT-0101701234-8:result": ("delivered", None),
        "SCT-0101709999-4:result": (
            "rejected",
            "phone: landline (landline number (Thủ đô Hà Nội area code 024), SMS needs a mobile)",
        ),
        "fee-2026-000991": ("delivered", None),
        "fee-2026-000994": ("undeliverable", "receipt: UNDELIV err:001"),
    }
    assert [s["state"] for s in statuses if s["id"] == "fee-2026-000991"] == [
        "queued", "submitted", "delivered",
    ]  # fmt: skip


def test_the_walkthroughs_statuses_fit_the_status_schema(walkthrough):
    _, out = _block_output(walkthrough, "-C 10")
    validator = Draft202012Validator(schema("status"))

    for line in out.splitlines():
        if line.strip():
            assert list(validator.iter_errors(json.loads(line))) == []


def test_the_validate_output_shown_is_what_validate_prints(walkthrough):
    _, out = _block_output(walkthrough, "motcua-sms validate")
    shown = [b.text for b in blocks() if b.mark == OUTPUT_MARK]

    assert out == shown[0]


def test_the_last_block_stops_the_gateway_cleanly(walkthrough):
    _, work = walkthrough
    log = (work / "gateway.log").read_text(encoding="utf-8")

    assert '"gateway_stopped"' in log


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory):
    executable = find_mosquitto()
    if executable is None:
        pytest.fail("mosquitto is not installed")
    certificates = make_certificates(tmp_path_factory.mktemp("certs"))
    broker = Broker(executable, certificates=certificates, users={"sct-onestop": "s3cret-SCT"})
    broker.start()
    yield broker, certificates
    broker.close()


def _tls(tls_broker, tmp_path: Path, password: str) -> tuple[int, str]:
    broker, certificates = tls_broker
    env = _environment(
        MQTT_HOST=broker.host, MQTT_TLS_PORT=str(broker.tls_port), MQTT_CA=str(certificates.ca),
        MQTT_USER="sct-onestop", MQTT_PASSWORD=password,
    )  # fmt: skip
    [block] = commands("tls")
    [(code, out)] = run_blocks([block.text], tmp_path, env, timeout=60)
    return code, out


def test_the_tls_block_opens_a_persistent_session_with_the_login(tls_broker, tmp_path):
    code, _ = _tls(tls_broker, tmp_path, "s3cret-SCT")

    assert code == 0


def test_the_tls_block_is_refused_with_a_wrong_password(tls_broker, tmp_path):
    code, _ = _tls(tls_broker, tmp_path, "wrong")

    assert code != 0


@pytest.mark.parametrize(
    "block", [b for b in blocks() if b.language == "json"], ids=lambda b: b.text[:30]
)
def test_every_json_example_fits_its_payloads_schema(block):
    payload = json.loads(block.text)
    kind = "status" if "state" in payload else "dossier" if "event_id" in payload else "sms"

    assert list(Draft202012Validator(schema(kind)).iter_errors(payload)) == []


def test_readme_points_integrators_to_the_guide_after_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8").lower()
    two = readme.index("## two commands")
    after = readme[two : readme.index("\n## ", two + 1)]

    pointer = "integrating an agency's software? read [docs/INTEGRATION.md](docs/INTEGRATION.md)"
    assert pointer.lower() in after
