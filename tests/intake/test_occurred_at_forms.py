"""`occurred_at` as the one-stop software's platforms write it: taken by the reader and by
the published schema alike, so a vendor is never refused a timestamp its platform's own
ISO 8601 formatter made."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import pytest
from jsonschema import Draft202012Validator

from gateway.intake.payloads import DossierEvent, parse_dossier
from gateway.kit.schemas import schema

FORMS = [
    "2026-11-22T10:00:00+07:00",  # the SPEC example
    "2026-11-22T10:00:00.1234567+07:00",  # .NET DateTimeOffset "o"
    "2026-11-22T10:00:00.123456789+07:00",  # Java OffsetDateTime, nanoseconds
    "2026-11-22T10:00:00+0700",  # Java SimpleDateFormat "Z", PHP DATE_ISO8601
    "2026-11-22T10:00:00+07",  # an offset of whole hours
    "2026-11-22t10:00:00+07:00",  # RFC 3339 allows a lower-case t
    "2026-11-22 10:00:00+07:00",  # SQL's way of writing one
]


def event(occurred_at: str) -> dict[str, object]:
    return {
        "event_id": "SCT-1-9", "receipt_no": "0101701234", "agency": "SCT",
        "procedure": "Cấp phép", "step": "Trả kết quả", "status": 9,
        "due_date": "2026-11-25", "occurred_at": occurred_at,
    }  # fmt: skip


@pytest.mark.parametrize("occurred_at", FORMS)
def test_the_reader_takes_the_forms_platforms_write(occurred_at):
    read = parse_dossier(
        json.dumps(event(occurred_at)).encode(),
        topic_agency="SCT",
        agencies={"SCT"},
        tz=ZoneInfo("Asia/Ho_Chi_Minh"),
    )
    assert isinstance(read, DossierEvent)
    assert read.occurred_at.isoformat(timespec="seconds") == "2026-11-22T10:00:00+07:00"


@pytest.mark.parametrize("occurred_at", FORMS)
def test_the_schema_takes_the_forms_platforms_write(occurred_at):
    assert list(Draft202012Validator(schema("dossier")).iter_errors(event(occurred_at))) == []
