"""The payload schemas say what the daemon's reader does: the same fields, the same required
ones, the same lengths and statuses. A reader rule changed without the schema fails here."""

from __future__ import annotations

import dataclasses
import json
import re
import unicodedata
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from gateway.intake import dossier, sms, templates
from gateway.intake import fields as f
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


# The reader's length limits (of the trimmed text); the schema states them in its patterns.
LIMITS = [
    ("dossier", "event_id", f.MAX_ID), ("dossier", "receipt_no", f.MAX_RECEIPT_NO),
    ("dossier", "agency", f.MAX_AGENCY), ("dossier", "procedure", dossier.MAX_PROCEDURE),
    ("dossier", "procedure_code", dossier.MAX_PROCEDURE_CODE),
    ("dossier", "step", dossier.MAX_STEP),
    ("sms", "id", f.MAX_ID), ("sms", "to", f.MAX_PHONE), ("sms", "text", sms.MAX_TEXT),
    ("sms", "template", templates.MAX_TEMPLATE),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "field", "longest"), LIMITS)
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


@pytest.mark.parametrize("kind", ["dossier", "sms"])
@pytest.mark.parametrize(
    "value", ["nguyenvana@gmail.com", "not an address", "", None, 905123456, ["a@b.vn"], {}]
)
def test_any_email_value_fits_as_the_reader_takes_it_refusing_only_the_copy(kind, value):
    payload = dict(BASES[kind], email=value)

    assert fits(kind, payload)
    assert not isinstance(read(kind, payload), Rejection)


def test_unknown_fields_are_allowed_as_the_reader_ignores_them():
    payload = dict(DOSSIER, vendor_field={"anything": [1, 2]})

    assert fits("dossier", payload)
    assert not isinstance(read("dossier", payload), Rejection)


# ----------------------------------------------------------- the schema judges as the reader
# Characters that sit on the rules' edges: letters with and without diacritics, digits,
# spaces (ASCII, no-break, ideographic, NEL), controls (tab, line feed, NUL, DEL, C1), the
# invisible ones (zero-width space, soft hyphen, BOM, a combining accent alone), the date
# and time punctuation.
EDGE_CHARS = [
    *"aĂệ09 -./_:+TZ",
    "\t", "\n", "\x00", "\x7f", "\x85", "\u00a0", "\u3000",
    "\u200b", "\u00ad", "\ufeff", "\u0301",
]  # fmt: skip
SHORT_TEXT = st.text(st.sampled_from(EDGE_CHARS), max_size=6)


@st.composite
def near_limit(draw: st.DrawFn) -> str:
    """A text a character under, at or over a reader's limit, maybe padded."""
    n = draw(st.sampled_from(sorted({lim for _, _, lim in LIMITS}))) + draw(st.integers(-1, 1))
    pad = draw(st.sampled_from(["", " ", "\t", "  "]))
    return pad + "x" * n + pad


DATE_PART = st.sampled_from(
    ["2026-11-24", "2026-02-29", "2028-02-29", "2100-02-29", "2000-02-29", "2026-13-45",
     "1999-01-01", "2199-12-31", "2026-04-31", "20261124", "2026-W48-2"]
)  # fmt: skip
TIME_PART = st.sampled_from(
    ["T15:30:00+07:00", " 15:30", "T15:30:00.123456Z", "T15:30:00.1234567", "T24:00",
     "x15:30", "T15", "T15:30:00+07", "T15garbage", "", "T15:30-24:00"]
)  # fmt: skip
DATE_TEXT = st.builds(lambda d, t, pad: pad + d + t + pad, DATE_PART, TIME_PART,
                      st.sampled_from(["", " "]))  # fmt: skip
VALUE = st.one_of(
    SHORT_TEXT, near_limit(), DATE_TEXT, st.none(), st.booleans(),
    st.integers(-2, 12), st.sampled_from([9.0, 2.5, 1e21]),
    st.dictionaries(SHORT_TEXT, st.one_of(SHORT_TEXT, st.integers()), max_size=2),
)  # fmt: skip
MISSING = object()
# agency is not drawn: that it must be the topic's is a rule between payload and topic,
# not a shape a schema of the payload can hold.
DRAWN = {
    "dossier": ["event_id", "receipt_no", "procedure", "procedure_code", "phone", "step",
                "status", "due_date", "same_day", "occurred_at"],
    "sms": ["id", "to", "text", "template", "params"],
}  # fmt: skip


def inexpressible(payload: dict[str, Any]) -> str | None:
    """Why the schema cannot judge `payload` as the reader does, or None. The list is
    kept short on purpose: everything else must agree."""
    status = payload.get("status")
    if isinstance(status, float) and status.is_integer():
        return "JSON Schema counts 9.0 an integer; the reader refuses a fraction (documented)"
    if any(isinstance(v, str) and _ASTRAL_INVISIBLE.search(v) for v in payload.values()):
        return (
            "the patterns list the BMP's invisible characters only (\\u escapes reach no further)"
        )
    params = payload.get("params")
    if isinstance(params, dict) and any(
        unicodedata.normalize("NFC", k) != k or k.isidentifier() != bool(_WORD.fullmatch(k))
        for k in params
    ):
        return (
            "a param name the reader takes after NFC, or whose Unicode identifier rules \\w misses"
        )
    return None


_WORD = re.compile(r"[^\W\d]\w*")
_ASTRAL_INVISIBLE = re.compile(
    "[" + "".join(
        chr(c) for c in range(0x10000, 0x110000)
        if unicodedata.category(chr(c)) in ("Cf", "Mn", "Me")
    ) + "]"
)  # fmt: skip


@given(
    kind=st.sampled_from(["dossier", "sms"]),
    changes=st.data(),
)
@settings(max_examples=600, deadline=None)
def test_the_schema_accepts_exactly_what_the_reader_accepts(kind, changes):
    payload = dict(BASES[kind])
    for name in changes.draw(st.lists(st.sampled_from(DRAWN[kind]), min_size=1, max_size=3)):
        value = changes.draw(st.one_of(VALUE, st.just(MISSING)), label=name)
        if value is MISSING:
            payload.pop(name, None)
        else:
            payload[name] = value
    if kind == "sms" and "template" in payload and "text" in payload and payload["template"]:
        payload.pop("text")  # a template job now and then, not only "both given"
    assume(inexpressible(payload) is None)

    accepted = not isinstance(read(kind, payload), Rejection)

    assert fits(kind, payload) == accepted, (payload, read(kind, payload))


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        ("dossier", dict(DOSSIER, status=9.0)),
        ("dossier", dict(DOSSIER, step="\U000e0001")),  # LANGUAGE TAG alone: invisible
        ("sms", {"id": "j", "to": "0905123456", "template": "t", "params": {"e\u0323\u0302": "1"}}),
    ],
)
def test_the_inexpressible_cases_are_the_ones_listed(kind, payload):
    # Each exclusion is real: schema and reader do disagree on it, and it is named.
    assert inexpressible(payload) is not None
    assert fits(kind, payload) != (not isinstance(read(kind, payload), Rejection))


DOSSIER_REVIEWED = dict(DOSSIER, status="result_ready")
# Cases where schema and reader once disagreed, each held here as well as by the property.
DISAGREED = [
    ("dossier", dict(DOSSIER_REVIEWED, event_id="\u200b")),
    ("dossier", dict(DOSSIER_REVIEWED, event_id="a\tb")),
    ("dossier", dict(DOSSIER_REVIEWED, event_id=" " * 10 + "x" * 60)),
    ("dossier", dict(DOSSIER_REVIEWED, due_date="2026-13-45")),
    ("dossier", dict(DOSSIER_REVIEWED, due_date="1999-01-01")),
    ("dossier", dict(DOSSIER_REVIEWED, occurred_at="2026-11-24T15garbage")),
    ("dossier", dict(DOSSIER_REVIEWED, occurred_at="20261124T153000+0700")),
    ("dossier", dict(DOSSIER_REVIEWED, step="\u00ad")),
    ("sms", dict(SMS, params="")),
    ("sms", dict(SMS, text="a\x00b")),
    ("sms", {"id": "j", "to": "0905123456", "template": "t", "params": {"x" * 40: "1"}}),
    ("sms", {"id": "j", "to": "0905123456", "template": "t", "params": {"n\n": "1"}}),
]


@pytest.mark.parametrize(("kind", "payload"), DISAGREED)
def test_a_case_once_judged_apart_is_judged_alike(kind, payload):
    assert fits(kind, payload) == (not isinstance(read(kind, payload), Rejection))
