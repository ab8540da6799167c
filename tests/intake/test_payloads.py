"""MQTT payloads as the one-stop software sends them: what is read, and what is refused why.

Every refusal must name its field and say what is wrong, because it goes back to the
agency's developers as a `rejected` status; no input at all may raise.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.intake.dossier import MAX_PHONE_KEPT
from gateway.intake.payloads import (
    MAX_PAYLOAD,
    DossierEvent,
    Rejection,
    SmsJob,
    parse_dossier,
    parse_sms,
    parse_topic,
)

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
AGENCIES = frozenset({"SCT", "STP"})
# Each template an agency has, with its placeholders.
TEMPLATES = {
    "fee": frozenset({"receipt_no", "amount"}),
    "result": frozenset({"receipt_no", "agency_name"}),
    "plain": frozenset(),
}
PHONE = "0905123456"

# Word for word from SPEC.md "The MQTT contract".
SPEC_DOSSIER: dict[str, Any] = {
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
SPEC_SMS_TEXT: dict[str, Any] = {
    "id": "fee-2026-000991",
    "to": "0905123456",
    "text": "Lệ phí hồ sơ 0101701234: 50.000 đồng",
}
SMS_TEMPLATE: dict[str, Any] = {
    "id": "fee-2026-000992",
    "to": "0905123456",
    "template": "fee",
    "params": {"receipt_no": "0101701234", "amount": 50000},
}

MISSING = object()


def encode(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode()


def changed(base: dict[str, Any], **fields: Any) -> bytes:
    """`base` with `fields` replaced; a field set to MISSING is left out."""
    obj = {**base, **fields}
    return encode({k: v for k, v in obj.items() if v is not MISSING})


def dossier(payload: bytes, agency: str = "SCT") -> DossierEvent | Rejection:
    return parse_dossier(payload, topic_agency=agency, agencies=AGENCIES, tz=HCM)


def sms(payload: bytes, agency: str = "SCT") -> SmsJob | Rejection:
    return parse_sms(payload, topic_agency=agency, agencies=AGENCIES, templates=TEMPLATES.get)


def event(**fields: Any) -> DossierEvent:
    result = dossier(changed(SPEC_DOSSIER, **fields))
    assert isinstance(result, DossierEvent), result
    return result


def rejection(result: object) -> Rejection:
    assert isinstance(result, Rejection), result
    return result


# --------------------------------------------------------------------------- topics


class TestTopic:
    @pytest.mark.parametrize(
        ("topic", "prefix", "expected"),
        [
            ("motcua/SCT/dossier", "motcua", ("SCT", "dossier")),
            ("motcua/SCT/sms", "motcua", ("SCT", "sms")),
            ("khanhhoa/motcua/STP/sms", "khanhhoa/motcua", ("STP", "sms")),
            ("motcua/SCT/sms", "motcua/", ("SCT", "sms")),
            ("SCT/dossier", "", ("SCT", "dossier")),
        ],
    )
    def test_reads_agency_and_kind(self, topic, prefix, expected):
        assert parse_topic(topic, prefix) == expected

    @pytest.mark.parametrize(
        "topic",
        [
            pytest.param("motcua/SCT/status", id="own-output"),
            pytest.param("motcua/SCT/other", id="unknown-kind"),
            pytest.param("motcua//dossier", id="empty-agency"),
            pytest.param("motcua/SCT/dossier/extra", id="too-deep"),
            pytest.param("motcua/dossier", id="no-agency"),
            pytest.param("other/SCT/dossier", id="other-prefix"),
            pytest.param("motcuaX/SCT/dossier", id="prefix-is-not-a-string-prefix"),
            pytest.param("", id="empty"),
        ],
    )
    def test_other_topics_are_not_work(self, topic):
        assert parse_topic(topic, "motcua") is None

    def test_unknown_agency_is_still_returned_so_it_can_be_answered(self):
        assert parse_topic("motcua/XYZ/dossier", "motcua") == ("XYZ", "dossier")


# --------------------------------------------------------------------------- dossier events


class TestDossierEvent:
    def test_spec_example_parses_to_the_exact_event(self):
        assert dossier(encode(SPEC_DOSSIER)) == DossierEvent(
            event_id="SCT-0101701234-7",
            receipt_no="0101701234",
            agency="SCT",
            procedure="Cấp Giấy chứng nhận đủ điều kiện kinh doanh hóa chất",
            procedure_code="2.000123",
            phone="0905 123 456",
            step="Thẩm định hồ sơ",
            status="processing",
            due_date=date(2026, 11, 25),
            same_day=False,
            occurred_at=datetime(2026, 11, 22, 10, 0, tzinfo=timezone(timedelta(hours=7))),
        )

    @pytest.mark.parametrize(
        ("status", "expected"),
        [
            (1, "received"),
            (2, "received"),
            (3, "rejected"),
            (4, "processing"),
            ("5", "needs_supplement"),
            (6, "needs_payment"),
            (7, "withdrawn"),
            (8, "rejected"),
            (9, "result_ready"),
            ("10", "returned"),
            (" result_ready ", "result_ready"),
        ],
    )
    def test_national_status_codes_become_status_names(self, status, expected):
        assert event(status=status).status == expected

    def test_naive_occurred_at_is_read_in_the_configured_time_zone(self):
        occurred = event(occurred_at="2026-11-22T10:00:00").occurred_at
        assert occurred.utcoffset() == timedelta(hours=7)
        assert occurred == datetime(2026, 11, 22, 3, 0, tzinfo=UTC)

    def test_occurred_at_keeps_an_offset_given_in_the_payload(self):
        occurred = event(occurred_at="2026-11-22T03:00:00Z").occurred_at
        assert occurred == datetime(2026, 11, 22, 10, 0, tzinfo=HCM)

    def test_same_day_defaults_to_false(self):
        assert event(same_day=MISSING).same_day is False

    def test_same_day_true_is_kept(self):
        assert event(same_day=True).same_day is True

    @pytest.mark.parametrize("phone", [MISSING, None, "", "   "])
    def test_no_phone_is_none(self, phone):
        assert event(phone=phone).phone is None

    def test_phone_is_kept_as_sent_for_later_validation(self):
        # A landline must not stop the mirror from following the dossier.
        assert event(phone=" 028 3829 6052 ").phone == " 028 3829 6052 "

    @pytest.mark.parametrize(
        "phone", ["0" * 33, "0905 123 456 (nha rieng, goi toi)", "0905\t123456", "09\x00"]
    )
    def test_a_phone_no_sms_can_go_to_is_kept_as_sent_for_the_notice_to_refuse(self, phone):
        # Too long for a number, a tab, a desk's note: the notice's business, not the event's.
        assert event(phone=phone).phone == phone

    def test_a_phone_longer_than_the_store_keeps_is_cut_to_what_it_keeps(self):
        assert event(phone=" " + "9" * 10_000).phone == "9" * MAX_PHONE_KEPT

    def test_an_unpaired_surrogate_in_the_phone_is_kept_as_a_replacement_character(self):
        payload = encode(SPEC_DOSSIER).replace(b'"0905 123 456"', b'"0905\\ud800"')
        result = dossier(payload)
        assert isinstance(result, DossierEvent) and result.phone == "0905\ufffd"

    @pytest.mark.parametrize("due_date", [MISSING, None, ""])
    def test_due_date_may_be_absent(self, due_date):
        assert event(due_date=due_date).due_date is None

    @pytest.mark.parametrize("code", [MISSING, None, ""])
    def test_procedure_code_may_be_absent(self, code):
        assert event(procedure_code=code).procedure_code is None

    @pytest.mark.parametrize("receipt_no", ["0101701234", "000.00.06.H56-231027-0361", "A_1/2"])
    def test_both_receipt_forms_are_accepted(self, receipt_no):
        assert event(receipt_no=receipt_no).receipt_no == receipt_no

    def test_surrounding_whitespace_is_trimmed_from_one_line_fields(self):
        got = event(receipt_no=" 0101701234 ", step=" Thẩm định hồ sơ\t")
        assert (got.receipt_no, got.step) == ("0101701234", "Thẩm định hồ sơ")

    def test_unknown_fields_are_ignored(self):
        assert event(priority="high", extra={"a": [1, 2]}) == event()

    def test_utf8_byte_order_mark_is_accepted(self):
        assert isinstance(dossier(b"\xef\xbb\xbf" + encode(SPEC_DOSSIER)), DossierEvent)


# --------------------------------------------------------------------------- sms jobs


class TestSmsJob:
    def test_text_job_parses(self):
        assert sms(encode(SPEC_SMS_TEXT)) == SmsJob(
            id="fee-2026-000991",
            agency="SCT",
            to="0905123456",
            text="Lệ phí hồ sơ 0101701234: 50.000 đồng",
            template=None,
            params={},
        )

    def test_template_job_parses_with_numbers_as_text(self):
        assert sms(encode(SMS_TEMPLATE)) == SmsJob(
            id="fee-2026-000992",
            agency="SCT",
            to="0905123456",
            text=None,
            template="fee",
            params={"receipt_no": "0101701234", "amount": "50000"},
        )

    def test_template_job_without_params_has_empty_params(self):
        job = sms(changed(SMS_TEMPLATE, template="plain", params=MISSING))
        assert isinstance(job, SmsJob)
        assert dict(job.params) == {}

    def test_params_cannot_be_changed_afterwards(self):
        job = sms(encode(SMS_TEMPLATE))
        assert isinstance(job, SmsJob)
        with pytest.raises(TypeError):
            job.params["amount"] = "0"  # type: ignore[index]

    def test_agency_in_payload_is_optional_and_checked_when_given(self):
        job = sms(changed(SPEC_SMS_TEXT, agency="SCT"))
        assert isinstance(job, SmsJob)
        assert job.agency == "SCT"

    def test_any_template_name_is_accepted_without_a_template_check(self):
        job = parse_sms(
            changed(SMS_TEMPLATE, template="anything"), topic_agency="SCT", agencies=AGENCIES
        )
        assert isinstance(job, SmsJob)

    def test_params_named_like_arguments_are_plain_placeholders(self):
        """`strip` or `template` as a param name is a placeholder like any other."""
        job = parse_sms(
            changed(SMS_TEMPLATE, params={"strip": "x", "template": "y"}),
            topic_agency="SCT",
            agencies=AGENCIES,
            templates={"fee": frozenset({"strip", "template"})}.get,
        )
        assert isinstance(job, SmsJob)
        assert dict(job.params) == {"strip": "x", "template": "y"}

    def test_multi_line_text_is_kept_as_written(self):
        job = sms(changed(SPEC_SMS_TEXT, text="Dòng 1\nDòng 2 "))
        assert isinstance(job, SmsJob)
        assert job.text == "Dòng 1\nDòng 2 "


# --------------------------------------------------------------------------- rejections

LONG = "x" * 65
DEEP = b"[" * 10_000
DEEP_OBJECT = b'{"a":' * 21 + b"1" + b"}" * 21

# payload, field, fragment of the reason
DOSSIER_REJECTIONS = [
    # the payload as a whole
    pytest.param(b"x" * (MAX_PAYLOAD + 1), "payload", "larger than 64 KiB", id="too-large"),
    pytest.param(b'{"event_id": "\xff"}', "payload", "not UTF-8", id="not-utf8"),
    pytest.param(b"", "payload", "not valid JSON (line 1 column 1)", id="empty"),
    pytest.param(
        b'{"a": 1,\n "b" 2}', "payload", "not valid JSON (line 2 column 6)", id="bad-json"
    ),
    pytest.param(b"[1, 2]", "payload", "must be a JSON object, got a list", id="array"),
    pytest.param(b'"text"', "payload", "must be a JSON object, got a string", id="string"),
    pytest.param(b"null", "payload", "must be a JSON object, got null", id="null"),
    pytest.param(DEEP, "payload", "nested deeper than 20 levels", id="deep-array"),
    pytest.param(DEEP_OBJECT, "payload", "nested deeper than 20 levels", id="deep-object"),
    pytest.param(b'{"a": NaN}', "payload", "NaN is not a JSON number", id="nan"),
    pytest.param(b'{"a": 1e999}', "payload", "too large", id="huge-float"),
    pytest.param(b'{"a": ' + b"1" * 5000 + b"}", "payload", "number longer than", id="long-int"),
    pytest.param(
        b'{"agency": "SCT", "agency": "STP"}', "payload", "key 'agency' appears twice", id="dup"
    ),
    # agency
    pytest.param(
        changed(SPEC_DOSSIER, agency="STP"),
        "agency",
        "agency: payload says 'STP' but topic is 'SCT'",
        id="agency-differs",
    ),
    pytest.param(
        changed(SPEC_DOSSIER, agency=MISSING), "agency", "agency: missing", id="no-agency"
    ),
    pytest.param(changed(SPEC_DOSSIER, agency=7), "agency", "must be a string", id="agency-number"),
    # required fields
    pytest.param(changed(SPEC_DOSSIER, event_id=MISSING), "event_id", "missing", id="no-event-id"),
    pytest.param(changed(SPEC_DOSSIER, event_id=None), "event_id", "null", id="null-event-id"),
    pytest.param(changed(SPEC_DOSSIER, event_id=" "), "event_id", "empty", id="blank-event-id"),
    pytest.param(
        changed(SPEC_DOSSIER, event_id=LONG), "event_id", "longer than 64", id="long-event-id"
    ),
    pytest.param(changed(SPEC_DOSSIER, receipt_no=MISSING), "receipt_no", "missing", id="no-rcpt"),
    pytest.param(
        changed(SPEC_DOSSIER, receipt_no=101701234),
        "receipt_no",
        "receipt_no: must be a string (quote it)",
        id="receipt-number",
    ),
    pytest.param(
        changed(SPEC_DOSSIER, receipt_no=True),
        "receipt_no",
        "must be a string, got a boolean",
        id="receipt-bool",
    ),
    pytest.param(
        changed(SPEC_DOSSIER, receipt_no="0101 701234"),
        "receipt_no",
        "contains U+0020; only letters, digits",
        id="receipt-space",
    ),
    pytest.param(
        changed(SPEC_DOSSIER, receipt_no="0101701234;DROP"),
        "receipt_no",
        "contains ';'",
        id="receipt-punctuation",
    ),
    pytest.param(
        changed(SPEC_DOSSIER, receipt_no="01\x0001"),
        "receipt_no",
        "control character U+0000",
        id="receipt-control",
    ),
    pytest.param(
        changed(SPEC_DOSSIER, receipt_no=LONG), "receipt_no", "longer than 64", id="receipt-long"
    ),
    pytest.param(changed(SPEC_DOSSIER, procedure=MISSING), "procedure", "missing", id="no-proc"),
    pytest.param(
        changed(SPEC_DOSSIER, procedure="p" * 501), "procedure", "longer than 500", id="long-proc"
    ),
    pytest.param(
        changed(SPEC_DOSSIER, procedure="a\nb"), "procedure", "control character U+000A", id="nl"
    ),
    pytest.param(
        changed(SPEC_DOSSIER, procedure=["a"]), "procedure", "must be a string, got a list", id="l"
    ),
    pytest.param(changed(SPEC_DOSSIER, step=MISSING), "step", "step: missing", id="no-step"),
    pytest.param(changed(SPEC_DOSSIER, step="s" * 201), "step", "longer than 200", id="long-step"),
    pytest.param(
        b'{"event_id":"e","receipt_no":"r","agency":"SCT","procedure":"p","step":"\\ud800",'
        b'"status":"processing","occurred_at":"2026-11-22T10:00:00"}',
        "step",
        "unpaired surrogate",
        id="surrogate",
    ),
    # optional fields of the wrong type
    pytest.param(
        changed(SPEC_DOSSIER, procedure_code=2.000123),
        "procedure_code",
        "must be a string (quote it)",
        id="code-number",
    ),
    pytest.param(
        changed(SPEC_DOSSIER, phone=905123456),
        "phone",
        "phone: must be a string (quote it)",
        id="phone-number",
    ),
    pytest.param(
        changed(SPEC_DOSSIER, same_day="false"),
        "same_day",
        "must be true or false (a JSON boolean), got a string",
        id="same-day-string",
    ),
    pytest.param(
        changed(SPEC_DOSSIER, same_day=0), "same_day", "got a number", id="same-day-number"
    ),
    # status
    pytest.param(changed(SPEC_DOSSIER, status=MISSING), "status", "status: missing", id="no-st"),
    pytest.param(
        changed(SPEC_DOSSIER, status="done"),
        "status",
        "status: must be one of needs_payment",
        id="status-unknown",
    ),
    pytest.param(
        changed(SPEC_DOSSIER, status=11), "status", "national status code 1-10; got 11", id="11"
    ),
    pytest.param(changed(SPEC_DOSSIER, status=True), "status", "got true", id="status-bool"),
    pytest.param(changed(SPEC_DOSSIER, status=None), "status", "got null", id="status-null"),
    # due_date
    pytest.param(
        changed(SPEC_DOSSIER, due_date="25/11/2026"),
        "due_date",
        "due_date: not a date in YYYY-MM-DD form",
        id="due-vn-form",
    ),
    pytest.param(
        changed(SPEC_DOSSIER, due_date="2026-02-30"),
        "due_date",
        "impossible date 2026-02-30",
        id="due-feb-30",
    ),
    pytest.param(
        changed(SPEC_DOSSIER, due_date="2026-11-25T00:00:00"),
        "due_date",
        "not a date in YYYY-MM-DD form",
        id="due-datetime",
    ),
    pytest.param(
        changed(SPEC_DOSSIER, due_date=20261125),
        "due_date",
        "must be a string in YYYY-MM-DD form, got a number",
        id="due-number",
    ),
    pytest.param(
        changed(SPEC_DOSSIER, due_date="0001-01-01"), "due_date", "out of range", id="due-year-1"
    ),
    # occurred_at
    pytest.param(
        changed(SPEC_DOSSIER, occurred_at=MISSING), "occurred_at", "missing", id="no-occurred"
    ),
    pytest.param(
        changed(SPEC_DOSSIER, occurred_at="22/11/2026 10:00"),
        "occurred_at",
        "not an ISO 8601 date and time",
        id="occurred-vn-form",
    ),
    pytest.param(
        changed(SPEC_DOSSIER, occurred_at="2026-11-22"),
        "occurred_at",
        "a date without a time",
        id="occurred-date-only",
    ),
    pytest.param(
        changed(SPEC_DOSSIER, occurred_at="2026-W47-7T10:00:00+07:00"),
        "occurred_at",
        "not an ISO 8601 date and time",
        id="occurred-week-date",
    ),
    pytest.param(
        changed(SPEC_DOSSIER, occurred_at="20261122T100000+0700"),
        "occurred_at",
        "not an ISO 8601 date and time",
        id="occurred-basic-form",
    ),
    pytest.param(
        changed(SPEC_DOSSIER, occurred_at="2026-11-22X10:00:00+07:00"),
        "occurred_at",
        "not an ISO 8601 date and time",
        id="occurred-stray-separator",
    ),
    pytest.param(
        changed(SPEC_DOSSIER, occurred_at="2026-11-22T10+07:00"),
        "occurred_at",
        "not an ISO 8601 date and time",
        id="occurred-hour-without-minutes",
    ),
    pytest.param(
        changed(SPEC_DOSSIER, occurred_at=1795323600),
        "occurred_at",
        "must be a string (quote it), got a number",
        id="occurred-epoch",
    ),
    pytest.param(
        changed(SPEC_DOSSIER, occurred_at="9999-12-31T23:59:59+07:00"),
        "occurred_at",
        "out of range",
        id="occurred-year-9999",
    ),
]


class TestDossierRejections:
    @pytest.mark.parametrize(("payload", "field", "fragment"), DOSSIER_REJECTIONS)
    def test_rejection_names_field_and_reason(self, payload, field, fragment):
        got = rejection(dossier(payload))
        assert (got.kind, got.field, got.agency) == ("dossier", field, "SCT")
        assert got.reason.startswith(f"{field}: ")
        assert fragment in got.reason

    def test_size_as_arrived_counts_when_the_payload_was_not_kept(self):
        got = parse_dossier(b"", topic_agency="SCT", agencies=AGENCIES, tz=HCM, size=400_000)
        assert rejection(got).reason == "payload: larger than 64 KiB (400000 bytes)"

    def test_sms_size_as_arrived_counts_too(self):
        got = parse_sms(b"", topic_agency="SCT", agencies=AGENCIES, size=MAX_PAYLOAD + 1)
        assert rejection(got).field == "payload"

    def test_unknown_topic_agency_is_rejected(self):
        got = rejection(dossier(changed(SPEC_DOSSIER, agency="XYZ"), agency="XYZ"))
        assert (got.field, got.reason) == ("agency", "agency: unknown agency 'XYZ'")

    def test_rejection_is_addressed_to_the_topic_agency(self):
        assert rejection(dossier(changed(SPEC_DOSSIER, agency="STP"))).agency == "SCT"

    def test_ref_and_receipt_no_are_given_when_readable(self):
        got = rejection(dossier(changed(SPEC_DOSSIER, due_date="2026-02-30")))
        assert (got.ref, got.receipt_no) == ("SCT-0101701234-7", "0101701234")

    def test_ref_is_given_even_when_the_agency_is_unknown(self):
        got = rejection(dossier(encode(SPEC_DOSSIER), agency="XYZ"))
        assert got.ref == "SCT-0101701234-7"

    def test_no_ref_when_event_id_is_unreadable(self):
        got = rejection(dossier(changed(SPEC_DOSSIER, event_id=17)))
        assert (got.field, got.ref, got.receipt_no) == ("event_id", None, "0101701234")

    def test_no_ref_when_the_payload_is_not_json(self):
        got = rejection(dossier(b"{"))
        assert (got.ref, got.receipt_no) == (None, None)


SMS_REJECTIONS = [
    pytest.param(b"not json", "payload", "not valid JSON (line 1 column 1)", id="bad-json"),
    pytest.param(b"[]", "payload", "must be a JSON object", id="array"),
    pytest.param(DEEP, "payload", "nested deeper", id="deep"),
    pytest.param(changed(SPEC_SMS_TEXT, id=MISSING), "id", "id: missing", id="no-id"),
    pytest.param(changed(SPEC_SMS_TEXT, id=991), "id", "must be a string (quote it)", id="id-num"),
    pytest.param(changed(SPEC_SMS_TEXT, id=LONG), "id", "longer than 64", id="long-id"),
    pytest.param(
        changed(SPEC_SMS_TEXT, agency="STP"),
        "agency",
        "agency: payload says 'STP' but topic is 'SCT'",
        id="agency-differs",
    ),
    pytest.param(changed(SPEC_SMS_TEXT, to=MISSING), "to", "to: missing", id="no-to"),
    pytest.param(changed(SPEC_SMS_TEXT, to=""), "to", "to: empty", id="empty-to"),
    pytest.param(
        changed(SPEC_SMS_TEXT, to=905123456), "to", "to: must be a string (quote it)", id="to-num"
    ),
    pytest.param(changed(SPEC_SMS_TEXT, to="0" * 33), "to", "longer than 32", id="long-to"),
    pytest.param(changed(SPEC_SMS_TEXT, text=MISSING), "text", "give text, or template", id="none"),
    pytest.param(
        changed(SPEC_SMS_TEXT, template="fee"), "text", "either text or template", id="both"
    ),
    pytest.param(changed(SPEC_SMS_TEXT, text="  "), "text", "text: empty", id="blank-text"),
    pytest.param(changed(SPEC_SMS_TEXT, text=12), "text", "must be a string", id="text-number"),
    pytest.param(changed(SPEC_SMS_TEXT, text="t" * 1601), "text", "longer than 1600", id="long"),
    pytest.param(
        changed(SPEC_SMS_TEXT, text="a\x07b"), "text", "control character U+0007", id="text-bel"
    ),
    pytest.param(
        changed(SPEC_SMS_TEXT, params={"a": "b"}), "params", "given with text", id="text-params"
    ),
    pytest.param(
        changed(SMS_TEMPLATE, template="nope"),
        "template",
        "template: unknown template 'nope' for agency 'SCT'",
        id="unknown-template",
    ),
    pytest.param(
        changed(SMS_TEMPLATE, params={"receipt_no": "0101701234"}),
        "params",
        "params: missing amount (placeholder of template 'fee')",
        id="param-missing",
    ),
    pytest.param(
        changed(SMS_TEMPLATE, params={**SMS_TEMPLATE["params"], "strip": "1"}),
        "params",
        "params: 'strip' not a placeholder of template 'fee' (its placeholders: amount, "
        "receipt_no)",
        id="param-not-a-placeholder",
    ),
    pytest.param(
        changed(SMS_TEMPLATE, template="a b"), "template", "only letters, digits", id="tpl-name"
    ),
    pytest.param(changed(SMS_TEMPLATE, template=3), "template", "must be a string", id="tpl-num"),
    pytest.param(
        changed(SMS_TEMPLATE, params=["a"]), "params", "must be an object", id="params-list"
    ),
    pytest.param(
        changed(SMS_TEMPLATE, params={"amount": None}),
        "params",
        "params: amount: must be a string or a number, got null",
        id="param-null",
    ),
    pytest.param(
        changed(SMS_TEMPLATE, params={"paid": True}),
        "params",
        "got a boolean",
        id="param-bool",
    ),
    pytest.param(
        changed(SMS_TEMPLATE, params={"a": {"b": "c"}}), "params", "got an object", id="nested"
    ),
    pytest.param(
        changed(SMS_TEMPLATE, params={"so ho so": "1"}), "params", "not a plain name", id="name"
    ),
    pytest.param(
        changed(SMS_TEMPLATE, params={"a": "v" * 501}),
        "params",
        "params: a: longer than 500",
        id="long-param",
    ),
]


class TestSmsRejections:
    @pytest.mark.parametrize(("payload", "field", "fragment"), SMS_REJECTIONS)
    def test_rejection_names_field_and_reason(self, payload, field, fragment):
        got = rejection(sms(payload))
        assert (got.kind, got.field, got.agency, got.receipt_no) == ("sms", field, "SCT", None)
        assert got.reason.startswith(f"{field}: ")
        assert fragment in got.reason

    def test_unknown_topic_agency_is_rejected(self):
        got = rejection(sms(encode(SPEC_SMS_TEXT), agency="XYZ"))
        assert (got.field, got.reason) == ("agency", "agency: unknown agency 'XYZ'")

    def test_ref_is_the_job_id_when_readable(self):
        got = rejection(sms(changed(SMS_TEMPLATE, template="nope")))
        assert got.ref == "fee-2026-000992"


# --------------------------------------------------------------------------- personal data

NINE_DIGITS = re.compile(r"\d{9,}")

# Phone numbers put where a reason might echo the value.
PHONE_IN_REASON = [
    pytest.param(dossier, changed(SPEC_DOSSIER, status=PHONE), "status", id="status"),
    pytest.param(dossier, changed(SPEC_DOSSIER, status="+84 905 123 456"), "status", id="status+"),
    pytest.param(dossier, changed(SPEC_DOSSIER, status=[PHONE]), "status", id="status-list"),
    pytest.param(dossier, changed(SPEC_DOSSIER, status=905123456), "status", id="status-int"),
    pytest.param(dossier, changed(SPEC_DOSSIER, agency=PHONE), "agency", id="agency"),
    pytest.param(dossier, changed(SPEC_DOSSIER, phone=905123456), "phone", id="phone-number"),
    pytest.param(dossier, changed(SPEC_DOSSIER, receipt_no=f"{PHONE} x"), "receipt_no", id="rc"),
    pytest.param(dossier, changed(SPEC_DOSSIER, due_date=PHONE), "due_date", id="due_date"),
    pytest.param(dossier, changed(SPEC_DOSSIER, occurred_at=PHONE), "occurred_at", id="occ"),
    pytest.param(dossier, f'{{"{PHONE}": 1, "{PHONE}": 2}}'.encode(), "payload", id="dup-key"),
    pytest.param(sms, changed(SPEC_SMS_TEXT, to=PHONE * 4), "to", id="to-long"),
    pytest.param(sms, changed(SMS_TEMPLATE, template=PHONE), "template", id="template"),
    pytest.param(sms, changed(SMS_TEMPLATE, params={PHONE: "x"}), "params", id="param-name"),
    pytest.param(sms, changed(SPEC_SMS_TEXT, agency=PHONE), "agency", id="sms-agency"),
]


class TestPersonalData:
    @pytest.mark.parametrize(("parse", "payload", "field"), PHONE_IN_REASON)
    def test_reason_never_repeats_a_phone_number(self, parse, payload, field):
        got = rejection(parse(payload))
        assert got.field == field
        assert not NINE_DIGITS.search(got.reason.replace(" ", ""))

    def test_unknown_agency_that_looks_like_a_phone_is_not_repeated(self):
        got = rejection(dossier(encode(SPEC_DOSSIER), agency=PHONE))
        assert PHONE not in got.reason


# --------------------------------------------------------------------------- no input raises

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)
FIELD_NAMES = sorted(
    {*SPEC_DOSSIER, *SMS_TEMPLATE, "text", "params", "same_day", "due_date", "template"}
)
# Payloads that look like ours, with fields replaced by anything at all.
NEAR_MISSES = st.tuples(
    st.sampled_from([SPEC_DOSSIER, SPEC_SMS_TEXT, SMS_TEMPLATE]),
    st.dictionaries(st.sampled_from(FIELD_NAMES), JSON_VALUES, max_size=4),
).map(lambda pair: {**pair[0], **pair[1]})
TOPIC_AGENCIES = st.sampled_from(["SCT", "STP", "XYZ", PHONE, ""])
RESULT_TYPES = (DossierEvent, SmsJob, Rejection)


def assert_well_formed(result: object) -> None:
    assert isinstance(result, RESULT_TYPES)
    if isinstance(result, Rejection):
        assert result.reason.startswith(f"{result.field}: ")
        assert not NINE_DIGITS.search(result.reason)


class TestNeverRaises:
    @settings(max_examples=300)
    @given(payload=st.binary(max_size=2048), agency=TOPIC_AGENCIES)
    def test_any_bytes(self, payload, agency):
        assert_well_formed(dossier(payload, agency))
        assert_well_formed(sms(payload, agency))

    @pytest.mark.slow
    @settings(max_examples=300)
    @given(value=JSON_VALUES, agency=TOPIC_AGENCIES)
    def test_any_json(self, value, agency):
        payload = json.dumps(value).encode()
        assert_well_formed(dossier(payload, agency))
        assert_well_formed(sms(payload, agency))

    @pytest.mark.slow
    @settings(max_examples=300)
    @given(obj=NEAR_MISSES, agency=TOPIC_AGENCIES)
    def test_payloads_close_to_valid_ones(self, obj, agency):
        payload = json.dumps(obj, ensure_ascii=False).encode("utf-8", "surrogatepass")
        assert_well_formed(dossier(payload, agency))
        assert_well_formed(sms(payload, agency))

    @settings(max_examples=100)
    @given(opening=st.text(alphabet='[{"\\:,1a', min_size=1, max_size=5000))
    def test_bracket_soup(self, opening):
        assert_well_formed(dossier(opening.encode()))

    @pytest.mark.parametrize(
        "payload",
        [b"[" * 10_000, b"{" * 10_000, b'{"a":' * 5000, b"[" * 30_000 + b"]" * 30_000],
    )
    def test_deep_nesting_is_rejected_without_recursion_error(self, payload):
        got = rejection(dossier(payload))
        assert got.field == "payload"

    def test_brackets_inside_strings_do_not_count_as_nesting(self):
        assert isinstance(
            dossier(changed(SPEC_DOSSIER, note="[" * 100 + '\\"' + "{" * 100)), DossierEvent
        )
