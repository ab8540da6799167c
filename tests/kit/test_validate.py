"""`motcua-sms validate FILE|-`: the status the daemon would publish for each payload, from
the daemon's own intake, and a non-zero exit status when any would be rejected."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gateway.cli import STARTUP_FAILURE, main
from gateway.kit.validate import split_payloads

DOSSIER: dict[str, Any] = {
    "event_id": "SCT-0101701234-8",
    "receipt_no": "0101701234",
    "agency": "SCT",
    "procedure": "Cấp Giấy chứng nhận đủ điều kiện kinh doanh hóa chất",
    "phone": "0905 123 456",
    "step": "Trả kết quả",
    "status": "result_ready",
    "due_date": "2026-11-25",
    "occurred_at": "2026-11-24T15:30:00+07:00",
}
JOB: dict[str, Any] = {"id": "fee-1", "to": "0905123456", "text": "Lệ phí 50.000 đồng"}


def lines(*payloads: dict[str, Any] | str) -> str:
    return "".join((p if isinstance(p, str) else json.dumps(p, ensure_ascii=False)) + "\n"
                   for p in payloads)  # fmt: skip


def validate(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, *opts: str):
    path = tmp_path / "payloads.jsonl"
    path.write_text(text, encoding="utf-8")
    code = main(["validate", *opts, str(path)])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def test_a_payload_the_daemon_takes_exits_0_and_shows_its_queued_status(tmp_path, capsys):
    code, out, _ = validate(tmp_path, capsys, lines(DOSSIER))

    assert code == 0
    assert out == ["line 1: queued  [SCT result SCT-0101701234-8:result, segments 1]"]


def test_a_payload_the_reader_rejects_exits_1_with_the_reason(tmp_path, capsys):
    code, out, _ = validate(tmp_path, capsys, lines(dict(DOSSIER, receipt_no=101701234)))

    assert code == 1
    assert out == [
        "line 1: rejected: receipt_no: must be a string (quote it), got a number"
        "  [SCT dossier SCT-0101701234-8, segments 0]"
    ]


def test_a_landline_exits_1_with_the_phone_reason_the_daemon_gives(tmp_path, capsys):
    code, out, _ = validate(tmp_path, capsys, lines(dict(DOSSIER, phone="024 3825 1234")))

    assert code == 1
    assert out[0].startswith("line 1: rejected: phone: landline (landline number")


def test_an_unknown_template_exits_1(tmp_path, capsys):
    job = {"id": "fee-2", "to": "0905123456", "template": "fee", "agency": "SCT"}

    code, out, _ = validate(tmp_path, capsys, lines(job))

    assert code == 1
    assert out[0].startswith("line 1: rejected: template: unknown template 'fee' for agency 'SCT'")


def test_a_payload_that_is_not_json_exits_1(tmp_path, capsys):
    code, out, _ = validate(tmp_path, capsys, "{not json\n")

    assert code == 1
    assert out[0].startswith("line 1: rejected: payload: not valid JSON (line 1 column 2)")


def test_an_empty_input_is_a_payload_that_is_not_json(tmp_path, capsys):
    code, out, _ = validate(tmp_path, capsys, "")

    assert code == 1
    assert out[0].startswith("line 1: rejected: payload: not valid JSON")


def test_json_lines_are_judged_one_by_one_with_their_line_numbers(tmp_path, capsys):
    text = lines(
        DOSSIER, "", dict(JOB, agency="SCT"), dict(JOB, id="fee-9", to="1900 1234", agency="SCT")
    )

    code, out, _ = validate(tmp_path, capsys, text)

    assert code == 1
    assert [line.split(":")[0] for line in out] == ["line 1", "line 3", "line 4"]
    assert out[2].startswith("line 4: rejected: phone: service_number")


def test_one_pretty_printed_object_is_one_payload(tmp_path, capsys):
    code, out, _ = validate(tmp_path, capsys, json.dumps(DOSSIER, indent=2))

    assert code == 0
    assert out == ["line 1: queued  [SCT result SCT-0101701234-8:result, segments 1]"]


def test_a_repeated_event_id_gets_no_status_as_the_daemon_sends_nothing(tmp_path, capsys):
    code, out, _ = validate(tmp_path, capsys, lines(DOSSIER, dict(DOSSIER, step="x")))

    assert code == 0
    assert (
        out[1]
        == "line 2: accepted; its id was seen before, so it changes nothing and sends nothing"
    )


def test_an_older_event_gets_no_status_as_it_changes_nothing(tmp_path, capsys):
    newer = dict(DOSSIER, event_id="SCT-2", status="processing")
    older = dict(DOSSIER, event_id="SCT-1", occurred_at="2026-11-20T08:00:00+07:00")

    code, out, _ = validate(tmp_path, capsys, lines(newer, older))

    assert code == 0
    assert out[0].startswith("line 1: accepted; no message to send for it")
    assert out[1].startswith("line 2: accepted; no message to send for it")


def test_a_payload_without_a_kind_exits_1_asking_for_kind(tmp_path, capsys):
    code, out, _ = validate(tmp_path, capsys, lines({"receipt_no": "0101701234"}))

    assert code == 1
    assert out == [
        "line 1: cannot tell a dossier event (event_id) from an SMS job (id): give --kind"
    ]


def test_kind_given_judges_the_payload_as_that_kind(tmp_path, capsys):
    code, out, _ = validate(tmp_path, capsys, lines({"receipt_no": "0101701234"}), "--kind",
                            "dossier", "--agency", "SCT")  # fmt: skip

    assert code == 1
    assert out[0].startswith("line 1: rejected: event_id: missing")


def test_a_job_without_agency_exits_1_asking_for_agency(tmp_path, capsys):
    code, out, _ = validate(tmp_path, capsys, lines(JOB))

    assert code == 1
    assert out == ["line 1: cannot tell the agency (no agency in the payload): give --agency"]


def test_agency_given_is_the_topics_agency(tmp_path, capsys):
    code, out, _ = validate(tmp_path, capsys, lines(JOB), "--agency", "STP")

    assert code == 0
    assert out == ["line 1: queued  [STP sms fee-1, segments 1]"]


def test_an_agency_the_configuration_lacks_exits_1(tmp_path, capsys):
    code, out, _ = validate(tmp_path, capsys, lines(JOB), "--agency", "SXD")

    assert code == 1
    assert out[0].startswith("line 1: rejected: agency: unknown agency 'SXD'")


def test_the_agencies_and_templates_come_from_the_configuration_given(tmp_path, capsys):
    config = tmp_path / "gateway.yaml"
    config.write_text(
        "smpp: {password: x}\nagencies:\n  SXD:\n    name: Sở Xây dựng\n"
        "    templates: {fee: 'Le phi ho so {receipt_no}: {amount} dong'}\n",
        encoding="utf-8",
    )
    job = {"id": "fee-3", "to": "0905123456", "template": "fee",
           "params": {"receipt_no": "0101701234", "amount": 50000}}  # fmt: skip

    code, out, _ = validate(tmp_path, capsys, lines(job), "-c", str(config), "--agency", "SXD")

    assert code == 0
    assert out == ["line 1: queued  [SXD sms fee-3, segments 1]"]


def test_a_configuration_error_exits_3_naming_it(tmp_path, capsys):
    config = tmp_path / "gateway.yaml"
    config.write_text("agencies: [SCT]\n", encoding="utf-8")

    code, _, err = validate(tmp_path, capsys, lines(DOSSIER), "-c", str(config))

    assert code == STARTUP_FAILURE
    assert "configuration error" in err and "agencies" in err


def test_a_file_that_cannot_be_read_exits_2(tmp_path, capsys):
    code = main(["validate", str(tmp_path / "missing.jsonl")])
    _, err = capsys.readouterr()

    assert code == 2
    missing = tmp_path / "missing.jsonl"
    assert err == f"motcua-sms: validate: cannot read {missing}: No such file or directory\n"


def test_dash_reads_standard_input(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(lines(DOSSIER).encode())))

    code = main(["validate", "-"])
    out, _ = capsys.readouterr()

    assert code == 0
    assert out.startswith("line 1: queued")


def test_json_output_gives_each_payloads_statuses_as_the_daemon_publishes_them(tmp_path, capsys):
    code, out, _ = validate(tmp_path, capsys, lines(DOSSIER), "--json")

    [record] = [json.loads(line) for line in out]
    [status] = record["statuses"]
    assert code == 0
    assert (record["line"], record["kind"], record["agency"], record["note"]) == (
        1, "dossier", "SCT", None,
    )  # fmt: skip
    assert {k: status[k] for k in ("id", "state", "to", "segments")} == {
        "id": "SCT-0101701234-8:result", "state": "queued", "to": "8490*****56", "segments": 1,
    }  # fmt: skip


def test_the_output_never_shows_a_full_phone_number(tmp_path, capsys):
    _, out, _ = validate(tmp_path, capsys, lines(DOSSIER, dict(JOB, agency="SCT")), "--json")

    assert "0905123456" not in "".join(out) and "84905123456" not in "".join(out)


def test_input_that_is_one_json_value_is_one_payload_even_across_lines():
    assert split_payloads(b'{\n  "a": 1\n}\n') == [(1, b'{\n  "a": 1\n}\n')]
    assert split_payloads(b'\n\n{"a": 1}\n') == [(3, b'\n\n{"a": 1}\n')]


def test_input_of_several_lines_that_is_not_one_json_value_is_json_lines():
    assert split_payloads(b'{"a": 1}\n\n{"b": 2}\r\n') == [(1, b'{"a": 1}'), (3, b'{"b": 2}')]
    assert split_payloads(b'{trunc\n{"b": 2}\n') == [(1, b"{trunc"), (2, b'{"b": 2}')]


def test_json_lines_with_a_bad_first_line_are_still_judged_line_by_line(tmp_path, capsys):
    landline = dict(JOB, id="fee-2", to="024 3825 1234")
    code, out, _ = validate(tmp_path, capsys, lines("{truncated", dict(JOB), landline),
                            "--agency", "SCT")  # fmt: skip

    assert code == 1
    assert out[0].startswith("line 1: rejected: payload: not valid JSON")
    assert out[1] == "line 2: queued  [SCT sms fee-1, segments 1]"
    assert out[2].startswith("line 3: rejected: phone: landline")


@pytest.mark.parametrize("agency", ["SCT/x", "SCT/", "+", "#"])
def test_a_job_whose_agency_cannot_be_a_topic_level_is_rejected_as_the_daemon_does(
    tmp_path, capsys, agency
):
    code, out, _ = validate(tmp_path, capsys, lines(dict(JOB, agency=agency)))

    assert code == 1
    assert out == [
        f"line 1: rejected: agency: payload says {agency!r} but topic is 'SCT'"
        "  [SCT sms fee-1, segments 0]"
    ]


@pytest.mark.parametrize("agency", ["SCT/x", "+", "#"])
def test_an_agency_given_that_no_topic_can_carry_is_refused_not_accepted(tmp_path, capsys, agency):
    code, out, _ = validate(tmp_path, capsys, lines(dict(JOB)), "--agency", agency)

    assert code == 1
    topic = f"motcua/{agency}/sms"
    assert out == [f"line 1: cannot judge it: the daemon reads nothing on topic {topic!r}"]


def test_a_job_without_agency_takes_the_only_configured_agency(tmp_path, capsys):
    config = tmp_path / "gateway.yaml"
    config.write_text("smpp: {password: x}\nagencies:\n  SCT: {name: Sở Công Thương}\n", "utf-8")

    code, out, _ = validate(tmp_path, capsys, lines(JOB), "-c", str(config))

    assert code == 0
    assert out == ["line 1: queued  [SCT sms fee-1, segments 1]"]


def test_standard_input_closed_exits_2_with_one_line_and_no_traceback():
    # Without preloaded libraries (faketime's, under a test run at another date): one that
    # opens a file at start-up would be given descriptor 0, and stdin would not be closed.
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    proc = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "validate", "-"],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=lambda: os.close(0),
        env=env,
    )

    assert proc.returncode == 2
    assert proc.stderr == "motcua-sms: validate: cannot read -: standard input is closed\n"


def test_the_daemons_log_lines_stay_out_of_validates_output(tmp_path, capsys):
    # A reused id (same event_id, other content) makes the daemon log intake_id_reused.
    code, out, err = validate(tmp_path, capsys, lines(DOSSIER, dict(DOSSIER, step="x")))

    assert code == 0
    assert err == ""
    assert all(line.startswith("line ") for line in out)
