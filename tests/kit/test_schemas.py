"""The payload schemas say what the daemon's reader does: the same fields, the same required
ones, the same lengths and statuses. A reader rule changed without the schema fails here."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from gateway.intake.payloads import DossierEvent, Rejection, SmsJob, parse_dossier, parse_sms
from gateway.kit.schemas import schema
from gateway.settings.config import default_config

CONFIG = default_config()
DOSSIER: dict[str, Any] = {
    "event_id": "SCT-0101701234-7",
    "receipt_no": "0101701234",
    "agency": "SCT",
    "procedure": "Cấp Giấy chứng nhận đủ điều kiện kinh doanh hóa chất",
    "procedure_code": "2.000123",
    "phone": "0905 123 456",
    "step": "Thẩm định hồ sơ",
    "status": "processing",
    "due_date": "2026-11-25",
    "same_day": False,
    "occurred_at": "2026-11-22T10:00:00+07:00",
}
SMS: dict[str, Any] = {"id": "fee-2026-000991", "to": "0905123456", "text": "Lệ phí 50.000 đồng"}
BASES = {"dossier": DOSSIER, "sms": SMS}


def read(
    kind: str, payload: dict[str, Any], agency: str = "SCT"
) -> DossierEvent | SmsJob | Rejection:
    data = json.dumps(payload, ensure_ascii=False).encode()
    agencies = {*CONFIG.agencies, agency}
    if kind == "dossier":
        return parse_dossier(data, topic_agency=agency, agencies=agencies, tz=CONFIG.tz)
    return parse_sms(data, topic_agency=agency, agencies=agencies)


def fits(kind: str, payload: dict[str, Any]) -> bool:
    return Draft202012Validator(schema(kind)).is_valid(payload)


@pytest.mark.parametrize(("kind", "fields"), [("dossier", DossierEvent), ("sms", SmsJob)])
def test_the_schema_names_every_field_the_reader_reads(kind, fields):
    assert set(schema(kind)["properties"]) == {f.name for f in dataclasses.fields(fields)}


@pytest.mark.parametrize("kind", ["dossier", "sms"])
def test_the_bases_fit_their_schema_and_the_reader(kind):
    assert fits(kind, BASES[kind])
    assert not isinstance(read(kind, BASES[kind]), Rejection)


@pytest.mark.parametrize(
    ("kind", "field"),
    [(kind, field) for kind, base in BASES.items() for field in base],
)
def test_a_field_is_required_in_the_schema_exactly_when_the_reader_requires_it(kind, field):
    payload = {k: v for k, v in BASES[kind].items() if k != field}
    result = read(kind, payload)
    required = field in schema(kind)["required"] or (kind, field) == ("sms", "text")

    if required:
        assert isinstance(result, Rejection)
        assert result.reason.startswith(f"{field}: missing")
        assert not fits(kind, payload)
    else:
        assert not isinstance(result, Rejection), result
        assert fits(kind, payload)


def _long_fields(kind: str) -> list[tuple[str, str, int]]:
    """(kind, field, maxLength) for every text field a long run of one letter may fill."""
    props = schema(kind)["properties"]
    return [
        (kind, name, prop["maxLength"])
        for name, prop in props.items()
        if "maxLength" in prop and name not in ("occurred_at", "due_date")
    ]


@pytest.mark.parametrize(
    ("kind", "field", "longest"), _long_fields("dossier") + _long_fields("sms")
)
def test_a_texts_longest_length_is_the_readers(kind, field, longest):
    def with_length(n: int) -> tuple[DossierEvent | SmsJob | Rejection, bool]:
        value = "A" * n
        payload = dict(BASES[kind], **{field: value})
        if field == "template":
            payload.pop("text")
        agency = value if field == "agency" else "SCT"
        return read(kind, payload, agency), fits(kind, payload)

    at_limit, fits_at_limit = with_length(longest)
    over, fits_over = with_length(longest + 1)

    assert not isinstance(at_limit, Rejection), at_limit
    assert fits_at_limit
    assert isinstance(over, Rejection)
    assert over.reason == f"{field}: longer than {longest} characters ({longest + 1})"
    assert not fits_over


@pytest.mark.parametrize(
    "status",
    [
        "received", "processing", "needs_supplement", "needs_payment",
        "result_ready", "returned", "rejected", "withdrawn",
    ],
)  # fmt: skip
def test_every_status_name_the_schema_allows_is_read(status):
    payload = dict(DOSSIER, status=status)

    assert fits("dossier", payload)
    assert read("dossier", payload).status == status


@pytest.mark.parametrize("status", ["done", "", 0, 11, True, "11", 4.5])
def test_a_status_the_schema_refuses_is_refused_by_the_reader(status):
    payload = dict(DOSSIER, status=status)

    assert not fits("dossier", payload)
    assert isinstance(read("dossier", payload), Rejection)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("receipt_no", "0101 701234"),
        ("receipt_no", 101701234),
        ("phone", 905123456),
        ("same_day", "false"),
        ("due_date", "25/11/2026"),
        ("occurred_at", "yesterday"),
        ("event_id", "   "),
    ],
)
def test_a_dossier_value_the_schema_refuses_is_refused_by_the_reader(field, value):
    payload = dict(DOSSIER, **{field: value})

    assert not fits("dossier", payload)
    result = read("dossier", payload)
    assert isinstance(result, Rejection)
    assert result.field == field


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"text": None}, "text"),
        ({"template": "result"}, "text"),
        ({"params": {"x": "1"}}, "params"),
        ({"text": None, "template": "result", "params": {"receipt no": "1"}}, "params"),
        ({"text": None, "template": "result", "params": {"x": True}}, "params"),
        ({"text": None, "template": "bad name"}, "template"),
        ({"to": 905123456}, "to"),
    ],
)
def test_an_sms_job_the_schema_refuses_is_refused_by_the_reader(change, field):
    payload = {k: v for k, v in dict(SMS, **change).items() if v is not None}

    assert not fits("sms", payload)
    result = read("sms", payload)
    assert isinstance(result, Rejection)
    assert result.field == field


def test_unknown_fields_are_allowed_as_the_reader_ignores_them():
    payload = dict(DOSSIER, vendor_field={"anything": [1, 2]})

    assert fits("dossier", payload)
    assert not isinstance(read("dossier", payload), Rejection)
