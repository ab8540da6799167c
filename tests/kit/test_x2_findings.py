"""Review X2 (integration kit): promises of validate, the schemas and the guide that do not
hold. Each test names the correct behaviour and fails now."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import pytest

from gateway.cli import main
from gateway.intake.payloads import Rejection, parse_dossier, parse_sms
from gateway.kit.schemas import schema

DOSSIER: dict[str, Any] = {
    "event_id": "SCT-0101701234-8", "receipt_no": "0101701234", "agency": "SCT",
    "procedure": "Cấp phép", "phone": "0905 123 456", "step": "Trả kết quả",
    "status": "result_ready", "occurred_at": "2026-11-24T15:30:00+07:00",
}  # fmt: skip
JOB: dict[str, Any] = {"id": "fee-1", "to": "0905123456", "text": "Lệ phí 50.000 đồng"}
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def run_validate(tmp_path: Path, capsys, text: str, *opts: str):
    path = tmp_path / "p.jsonl"
    path.write_text(text, encoding="utf-8")
    code = main(["validate", "--json", *opts, str(path)])
    out, _ = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()]


# 3. the JSON Schemas and the reader disagree ----------------------------------------------
def _reader_rejects(kind: str, obj: dict[str, Any]) -> bool:
    raw = json.dumps(obj, ensure_ascii=False).encode()
    if kind == "dossier":
        r = parse_dossier(raw, topic_agency="SCT", agencies={"SCT"}, tz=TZ)
    else:
        r = parse_sms(raw, topic_agency="SCT", agencies={"SCT"})
    return isinstance(r, Rejection)


CASES = [
    ("dossier", dict(DOSSIER, status=9.0)),
    ("dossier", dict(DOSSIER, event_id="\u200b")),
    ("dossier", dict(DOSSIER, event_id="a\tb")),
    ("dossier", dict(DOSSIER, event_id=" " * 10 + "x" * 60)),
    ("dossier", dict(DOSSIER, due_date="2026-13-45")),
    ("dossier", dict(DOSSIER, due_date="1999-01-01")),
    ("dossier", dict(DOSSIER, occurred_at="2026-11-24T15garbage")),
    ("dossier", dict(DOSSIER, occurred_at="20261124T153000+0700")),
    ("dossier", dict(DOSSIER, step="\u00ad")),
    ("sms", dict(JOB, params="")),
    ("sms", dict(JOB, text="a\x00b")),
    ("sms", {"id": "j", "to": "0905123456", "template": "t", "params": {"x" * 40: "1"}}),
    ("sms", {"id": "j", "to": "0905123456", "template": "t", "params": {"n\n": "1"}}),
]


@pytest.mark.parametrize(("kind", "obj"), CASES)
def test_the_schema_accepts_exactly_what_the_reader_accepts(kind, obj):
    schema_rejects = bool(list(jsonschema.Draft202012Validator(schema(kind)).iter_errors(obj)))
    assert schema_rejects == _reader_rejects(kind, obj)
