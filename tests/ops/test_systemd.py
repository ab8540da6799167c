"""systemd integration: the notify protocol, and the unit file as systemd itself reads it."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from gateway.ops.systemd import Notifier
from gateway.settings.config import load_config

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "systemd" / "motcua-sms.service"
CONSOLE_UNIT = ROOT / "systemd" / "motcua-sms-console.service"
EXAMPLE = ROOT / "config" / "gateway.example.yaml"

SHIPPED_EXEC = "/usr/local/bin/motcua-sms"
SHIPPED_EXEC_START = f"{SHIPPED_EXEC} run -c /etc/motcua-sms/gateway.yaml"

# `systemd-analyze security --offline=true` on the shipped unit gives 1.1 (systemd 252,
# Debian 12). What is left is the network (which a gateway needs), the root directory, and
# the real-time clock read access that ProtectClock= grants. Raise this only with a reason.
MAX_EXPOSURE = 1.2
# The console's unit gives 0.9: it reaches no host but loopback (IPAddressDeny=).
CONSOLE_MAX_EXPOSURE = 1.0
CONSOLE_EXEC_START = f"{SHIPPED_EXEC} console -c /etc/motcua-sms/gateway.yaml"

INSTALL_HINT = (
    "systemd-analyze not found: install the Debian package 'systemd' "
    "(apt-get install -y systemd); these tests check the unit file with it"
)


# --------------------------------------------------------------------------- helpers


def datagram_socket(address: str | bytes) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(2.0)
    return sock


@pytest.fixture
def short_tmp_path(tmp_path: Path) -> Iterator[Path]:
    """tmp_path, or a directory under /tmp when a socket path there would be too long
    (AF_UNIX paths stop at 107 bytes; a deep $TMPDIR on CI can pass that)."""
    if len(str(tmp_path)) < 90:
        yield tmp_path
        return
    with tempfile.TemporaryDirectory(dir="/tmp") as short:
        yield Path(short)


@pytest.fixture
def listener(short_tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    """A notify socket on the file system, as systemd makes one: (socket, NOTIFY_SOCKET)."""
    path = short_tmp_path / "notify"
    sock = datagram_socket(str(path))
    yield sock, str(path)
    sock.close()


def unit_entries(text: str) -> dict[str, list[str]]:
    """`Section.Key` -> values in order (systemd keys may repeat), comments dropped."""
    entries: dict[str, list[str]] = {}
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, _, value = line.partition("=")
        entries.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return entries


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    return found


def installed_command() -> list[str]:
    """How this checkout's `motcua-sms` is started here: the console script, else `-m`."""
    script = Path(sys.executable).parent / "motcua-sms"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    found = shutil.which("motcua-sms")
    if found is not None:
        return [found]
    return [sys.executable, "-m", "gateway.cli"]


@pytest.fixture
def local_unit(tmp_path: Path) -> Path:
    """The shipped unit with ExecStart pointing at this machine's `motcua-sms`.

    `systemd-analyze verify` refuses an ExecStart that does not exist, and the shipped path
    (/usr/local/bin) is where an install puts it, not where a test run has it.
    """
    text = UNIT.read_text(encoding="utf-8")
    shipped = f"ExecStart={SHIPPED_EXEC_START}\n"
    assert shipped in text
    local = " ".join([*installed_command(), "run -c /etc/motcua-sms/gateway.yaml"])
    unit = tmp_path / UNIT.name
    unit.write_text(text.replace(shipped, f"ExecStart={local}\n"), encoding="utf-8")
    return unit


def run_analyze(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SYSTEMD_LOG_LEVEL": "info", "SYSTEMD_PAGER": "", "LC_ALL": "C.UTF-8"}
    env.pop("NOTIFY_SOCKET", None)
    return subprocess.run(
        [systemd_analyze(), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


# --------------------------------------------------------------------------- Notifier


class TestNotifier:
    def test_ready_sends_one_datagram_with_status(self, listener):
        """READY=1 and the STATUS= line travel together, in one datagram."""
        sock, path = listener
        notifier = Notifier({"NOTIFY_SOCKET": path})

        notifier.ready("bound, 0 queued")

        assert sock.recv(4096) == b"READY=1\nSTATUS=bound, 0 queued"
        notifier.close()

    def test_abstract_namespace_socket(self):
        """NOTIFY_SOCKET=@name is the abstract socket `\\0name`, no file involved."""
        name = f"motcua-sms-test-{uuid.uuid4().hex}"
        sock = datagram_socket(b"\0" + name.encode())
        try:
            notifier = Notifier({"NOTIFY_SOCKET": f"@{name}"})

            notifier.ready("bound, 0 queued")

            assert sock.recv(4096) == b"READY=1\nSTATUS=bound, 0 queued"
            notifier.close()
        finally:
            sock.close()

    @pytest.mark.parametrize(
        ("call", "expected"),
        [
            (lambda n: n.ready(), b"READY=1"),
            (lambda n: n.status("bound, 12 queued"), b"STATUS=bound, 12 queued"),
            (lambda n: n.stopping(), b"STOPPING=1"),
            (lambda n: n.watchdog(), b"WATCHDOG=1"),
            (lambda n: n.reloading(), b"RELOADING=1"),
        ],
        ids=["ready", "status", "stopping", "watchdog", "reloading"],
    )
    def test_each_call_sends_its_line(self, listener, call, expected):
        """Each state change is the protocol's own key, exactly."""
        sock, path = listener
        notifier = Notifier({"NOTIFY_SOCKET": path})

        call(notifier)

        assert sock.recv(4096) == expected
        notifier.close()

    def test_status_stays_on_one_line(self, listener):
        """A newline in a status would start a new key: it becomes a space."""
        sock, path = listener
        notifier = Notifier({"NOTIFY_SOCKET": path})

        notifier.status("unbound\nREADY=1")

        assert sock.recv(4096) == b"STATUS=unbound READY=1"
        notifier.close()

    def test_enabled_under_systemd(self, listener):
        """With a notify socket, notifications are on."""
        _, path = listener
        notifier = Notifier({"NOTIFY_SOCKET": path})

        assert notifier.enabled is True
        notifier.close()

    def test_without_notify_socket_every_call_is_a_no_op(self):
        """Not started by systemd: nothing is sent, nothing raises."""
        notifier = Notifier({})

        notifier.ready("bound, 0 queued")
        notifier.status("bound")
        notifier.watchdog()
        notifier.stopping()
        notifier.close()

        assert notifier.enabled is False

    def test_reads_os_environ_by_default(self, monkeypatch, listener):
        """No mapping given: the process environment is read."""
        sock, path = listener
        monkeypatch.setenv("NOTIFY_SOCKET", path)
        notifier = Notifier()

        notifier.stopping()

        assert sock.recv(4096) == b"STOPPING=1"
        notifier.close()

    def test_unsupported_address_disables(self):
        """A NOTIFY_SOCKET that is neither a path nor @name (e.g. vsock:) is not used."""
        with structlog.testing.capture_logs() as logs:
            notifier = Notifier({"NOTIFY_SOCKET": "vsock:2:1234"})
            notifier.ready()

        assert notifier.enabled is False
        assert [entry["event"] for entry in logs] == ["notify_socket_unsupported"]

    def test_vanished_socket_is_logged_once_never_raised(self, short_tmp_path):
        """The gateway must not die because the notify socket went away; one warning."""
        path = short_tmp_path / "notify"
        sock = datagram_socket(str(path))
        notifier = Notifier({"NOTIFY_SOCKET": str(path)})
        sock.close()
        path.unlink()

        with structlog.testing.capture_logs() as logs:
            notifier.ready("bound, 0 queued")
            notifier.watchdog()
            notifier.stopping()

        assert [entry["event"] for entry in logs] == ["notify_failed"]
        assert logs[0]["log_level"] == "warning"
        notifier.close()

    def test_close_twice_and_use_after_close(self, listener):
        """close() is idempotent; a call after it is a no-op."""
        _, path = listener
        notifier = Notifier({"NOTIFY_SOCKET": path})

        notifier.close()
        notifier.close()
        notifier.watchdog()

        assert notifier.enabled is False


class TestWatchdogInterval:
    @pytest.mark.parametrize(
        ("environ", "expected"),
        [
            ({"WATCHDOG_USEC": "20000000"}, 10.0),
            ({"WATCHDOG_USEC": "20000000", "WATCHDOG_PID": str(os.getpid())}, 10.0),
            ({"WATCHDOG_USEC": "20000000", "WATCHDOG_PID": str(os.getpid() + 1)}, None),
            ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}, None),
            ({}, None),
            ({"WATCHDOG_USEC": "0"}, None),
            ({"WATCHDOG_USEC": "soon"}, None),
            ({"WATCHDOG_USEC": "20000000", "WATCHDOG_PID": "me"}, None),
        ],
        ids=[
            "half-of-usec",
            "our-pid",
            "another-pid",
            "pid-1",
            "unset",
            "zero",
            "not-a-number",
            "pid-not-a-number",
        ],
    )
    def test_half_of_watchdog_usec_for_this_process_only(self, environ, expected):
        """Ping at half of WatchdogSec=, and only when the watchdog is meant for us."""
        assert Notifier(environ).watchdog_interval == expected

    def test_matches_the_unit(self):
        """WatchdogSec=30 in the unit means a ping every 15 s."""
        [watchdog_sec] = unit_entries(UNIT.read_text(encoding="utf-8"))["Service.WatchdogSec"]
        usec = int(watchdog_sec) * 1_000_000

        assert Notifier({"WATCHDOG_USEC": str(usec)}).watchdog_interval == 15.0


# --------------------------------------------------------------------------- the unit file


class TestUnitFile:
    def test_systemd_analyze_verify_is_clean(self, local_unit):
        """systemd reads the unit without an error or a warning about it."""
        result = run_analyze("verify", "--man=no", str(local_unit))

        complaints = [line for line in result.stderr.splitlines() if local_unit.name in line]
        assert (result.returncode, complaints) == (0, []), result.stderr

    def test_verify_catches_a_typo(self, local_unit):
        """The check above is not blind: a misspelt key is reported."""
        text = local_unit.read_text(encoding="utf-8")
        local_unit.write_text(text.replace("ProtectHome=", "ProtectHom="), encoding="utf-8")

        result = run_analyze("verify", "--man=no", str(local_unit))

        assert "Unknown key 'ProtectHom'" in result.stderr

    def test_security_exposure_is_low(self, local_unit):
        """`systemd-analyze security --offline=true` scores the sandbox at most MAX_EXPOSURE."""
        result = run_analyze("security", "--offline=true", "--no-pager", str(local_unit))

        assert result.returncode == 0, result.stderr
        match = re.search(
            r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", result.stdout + result.stderr
        )
        assert match is not None, result.stdout + result.stderr
        assert float(match.group(1)) <= MAX_EXPOSURE, result.stdout

    def test_shipped_exec_start(self):
        """The shipped unit starts the daemon with the documented command line."""
        entries = unit_entries(UNIT.read_text(encoding="utf-8"))

        assert entries["Service.ExecStart"] == [SHIPPED_EXEC_START]
        assert entries["Service.Type"] == ["notify"]
        assert entries["Service.NotifyAccess"] == ["main"]

    def test_credentials_are_the_example_password_files(self, tmp_path):
        """The credential ids are the example's relative password_file names, so the
        configuration finds them in $CREDENTIALS_DIRECTORY under the unit."""
        entries = unit_entries(UNIT.read_text(encoding="utf-8"))
        credentials = dict(value.split(":", 1) for value in entries["Service.LoadCredential"])
        for name in credentials:
            (tmp_path / name).write_text(f"{name}-value\n", encoding="utf-8")

        config = load_config(str(EXAMPLE), env={"CREDENTIALS_DIRECTORY": str(tmp_path)})

        assert credentials == {
            "smpp-password": "/etc/motcua-sms/smpp-password",
            "mqtt-password": "/etc/motcua-sms/mqtt-password",
        }
        assert (config.smpp.password, config.mqtt.password) == (
            "smpp-password-value",
            "mqtt-password-value",
        )

    def test_state_directory_holds_the_example_store(self):
        """The store path of the example is inside the one writable directory."""
        entries = unit_entries(UNIT.read_text(encoding="utf-8"))
        [state] = entries["Service.StateDirectory"]
        config = load_config(
            str(EXAMPLE), env={"MOTCUA_SMS_SMPP_PASSWORD": "x", "MOTCUA_SMS_MQTT_PASSWORD": "y"}
        )

        assert Path(config.store.path).parent == Path("/var/lib") / state


class TestConsoleUnitFile:
    """systemd/motcua-sms-console.service: hardened like the daemon's, beside it."""

    @pytest.fixture
    def console_unit(self, tmp_path: Path) -> Path:
        text = CONSOLE_UNIT.read_text(encoding="utf-8")
        shipped = f"ExecStart={CONSOLE_EXEC_START}\n"
        assert shipped in text
        local = " ".join([*installed_command(), "console -c /etc/motcua-sms/gateway.yaml"])
        unit = tmp_path / CONSOLE_UNIT.name
        unit.write_text(text.replace(shipped, f"ExecStart={local}\n"), encoding="utf-8")
        return unit

    def test_systemd_analyze_verify_is_clean(self, console_unit):
        result = run_analyze("verify", "--man=no", str(console_unit))

        complaints = [line for line in result.stderr.splitlines() if console_unit.name in line]
        assert (result.returncode, complaints) == (0, []), result.stderr

    def test_security_exposure_is_at_most_the_consoles_bound(self, console_unit):
        result = run_analyze("security", "--offline=true", "--no-pager", str(console_unit))

        match = re.search(
            r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", result.stdout + result.stderr
        )
        assert match is not None, result.stdout + result.stderr
        assert float(match.group(1)) <= CONSOLE_MAX_EXPOSURE, result.stdout

    def test_it_starts_the_console_and_does_not_restart_a_start_up_refusal(self):
        entries = unit_entries(CONSOLE_UNIT.read_text(encoding="utf-8"))

        assert entries["Service.ExecStart"] == [CONSOLE_EXEC_START]
        assert entries["Service.RestartPreventExitStatus"] == ["3"]

    def test_it_runs_as_the_gateways_user_in_the_gateways_state_directory(self):
        daemon = unit_entries(UNIT.read_text(encoding="utf-8"))
        console = unit_entries(CONSOLE_UNIT.read_text(encoding="utf-8"))

        # The daemon's dynamic user is named after its unit.
        assert console["Service.User"] == [UNIT.stem]
        assert console["Service.DynamicUser"] == daemon["Service.DynamicUser"] == ["yes"]
        assert console["Service.StateDirectory"] == daemon["Service.StateDirectory"]
        assert console["Service.StateDirectoryMode"] == daemon["Service.StateDirectoryMode"]

    def test_it_loads_no_secret_and_reaches_no_host_but_loopback(self):
        entries = unit_entries(CONSOLE_UNIT.read_text(encoding="utf-8"))

        assert "Service.LoadCredential" not in entries
        assert entries["Service.IPAddressDeny"] == ["any"]
        assert entries["Service.IPAddressAllow"] == ["localhost"]

    def test_it_yields_the_cpu_and_the_disk_to_the_daemon(self):
        daemon = unit_entries(UNIT.read_text(encoding="utf-8"))
        console = unit_entries(CONSOLE_UNIT.read_text(encoding="utf-8"))

        for weight in ("Service.CPUWeight", "Service.IOWeight"):
            assert int(console[weight][0]) < int(daemon.get(weight, ["100"])[0])
        assert int(console["Service.Nice"][0]) > int(daemon.get("Service.Nice", ["0"])[0])

    def test_every_hardening_setting_of_the_daemons_unit_is_in_the_consoles(self):
        daemon = unit_entries(UNIT.read_text(encoding="utf-8"))
        console = unit_entries(CONSOLE_UNIT.read_text(encoding="utf-8"))
        # What the daemon has that a console does not need: the watchdog, notify, reload,
        # its credentials, its dependencies on the network and the broker.
        own = {
            "Unit.Wants", "Unit.After", "Unit.Description", "Service.Type",
            "Service.NotifyAccess", "Service.WatchdogSec", "Service.ExecStart",
            "Service.ExecReload", "Service.TimeoutStopSec", "Service.LoadCredential",
        }  # fmt: skip

        missing = {
            key: values
            for key, values in daemon.items()
            if key not in own and console.get(key) != values
        }
        assert missing == {}
