"""Notice texts exactly as SPEC.md gives them, statuses as the one-stop software sends them."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from gateway.compose.templates import DEFAULT_TEMPLATES, format_date, render, template_for
from gateway.domain.dossier import FINISHED_STATUSES, STATUS_TRIGGERS, STATUSES, parse_status
from gateway.domain.notice import NoticeKind, TemplateError, template_fields
from gateway.domain.timeliness import timeliness
from gateway.smpp.text import fits_gsm7

FIELDS = {
    "receipt_no": "0101701234",
    "agency_name": "Sở Công Thương",
    "due_date": "25/11/2026",
    "step": "Thẩm định hồ sơ",
    "timeliness": "Đúng hạn",
    "procedure": "Cấp Giấy chứng nhận đủ điều kiện kinh doanh hóa chất",
}

SEED_000_RESULT = (
    "TB: Hồ sơ của quý ông/bà (MS: {receipt_no}) đã được giải quyết xong. "
    "Mời ông/bà đến Bộ phận Một cửa {agency_name} để nhận kết quả"
)

# kind, fields changed from FIELDS, text with diacritics kept, text stripped
RENDERED = [
    pytest.param(
        NoticeKind.RESULT,
        {},
        "Thông báo: Hồ sơ của quý Ông/Bà (0101701234) đã được giải quyết xong. "
        "Mời Ông/Bà đến Bộ phận Một cửa Sở Công Thương để nhận kết quả",
        "Thong bao: Ho so cua quy Ong/Ba (0101701234) da duoc giai quyet xong. "
        "Moi Ong/Ba den Bo phan Mot cua So Cong Thuong de nhan ket qua",
        id="result",
    ),
    pytest.param(
        NoticeKind.SUPPLEMENT,
        {},
        "Thông báo: Hồ sơ của quý Ông/Bà (0101701234) cần bổ sung theo quy định. "
        "Mời Ông/Bà đến Bộ phận Một cửa Sở Công Thương để nhận thông báo",
        "Thong bao: Ho so cua quy Ong/Ba (0101701234) can bo sung theo quy dinh. "
        "Moi Ong/Ba den Bo phan Mot cua So Cong Thuong de nhan thong bao",
        id="supplement",
    ),
    pytest.param(
        NoticeKind.APOLOGY,
        {},
        "Thông báo: Hồ sơ của quý Ông/Bà (0101701234) chưa có kết quả vào ngày 25/11/2026. "
        "Sở Công Thương chân thành xin lỗi. "
        "Ông/Bà vui lòng đến nhận kết quả khi có tin nhắn tiếp theo",
        "Thong bao: Ho so cua quy Ong/Ba (0101701234) chua co ket qua vao ngay 25/11/2026. "
        "So Cong Thuong chan thanh xin loi. "
        "Ong/Ba vui long den nhan ket qua khi co tin nhan tiep theo",
        id="apology",
    ),
    pytest.param(
        NoticeKind.RECEIPT,
        {},
        "Thông báo: Sở Công Thương đã tiếp nhận hồ sơ của quý Ông/Bà (0101701234). "
        "Ngày hẹn trả kết quả: 25/11/2026",
        "Thong bao: So Cong Thuong da tiep nhan ho so cua quy Ong/Ba (0101701234). "
        "Ngay hen tra ket qua: 25/11/2026",
        id="receipt",
    ),
    pytest.param(
        NoticeKind.PAYMENT,
        {},
        "Thông báo: Hồ sơ của quý Ông/Bà (0101701234) cần thực hiện nghĩa vụ tài chính. "
        "Mời Ông/Bà liên hệ Bộ phận Một cửa Sở Công Thương hoặc thanh toán trực tuyến",
        "Thong bao: Ho so cua quy Ong/Ba (0101701234) can thuc hien nghia vu tai chinh. "
        "Moi Ong/Ba lien he Bo phan Mot cua So Cong Thuong hoac thanh toan truc tuyen",
        id="payment",
    ),
    pytest.param(
        NoticeKind.MCKH_REPLY,
        {"timeliness": "Đúng hạn"},
        "Hồ sơ của quý Ông/Bà (0101701234) hiện đang ở bước Thẩm định hồ sơ, "
        "trạng thái hồ sơ: Đúng hạn.",
        "Ho so cua quy Ong/Ba (0101701234) hien dang o buoc Tham dinh ho so, "
        "trang thai ho so: Dung han.",
        id="mckh_reply-on-time",
    ),
    pytest.param(
        NoticeKind.MCKH_REPLY,
        {"timeliness": "Trễ hạn"},
        "Hồ sơ của quý Ông/Bà (0101701234) hiện đang ở bước Thẩm định hồ sơ, "
        "trạng thái hồ sơ: Trễ hạn.",
        "Ho so cua quy Ong/Ba (0101701234) hien dang o buoc Tham dinh ho so, "
        "trang thai ho so: Tre han.",
        id="mckh_reply-late",
    ),
]


class TestDefaultTemplates:
    def test_every_kind_has_a_default(self) -> None:
        """An agency without overrides can send every kind of message."""
        assert set(DEFAULT_TEMPLATES) == set(NoticeKind)

    def test_defaults_are_nfc(self) -> None:
        """The composed form is what SMSCs and GSM transliteration expect."""
        assert all(unicodedata.is_normalized("NFC", t) for t in DEFAULT_TEMPLATES.values())

    @pytest.mark.parametrize(("kind", "changes", "kept", "stripped"), RENDERED)
    def test_default_text_with_diacritics_kept(
        self, kind: NoticeKind, changes: dict[str, str], kept: str, stripped: str
    ) -> None:
        """An agency keeping diacritics sends the SPEC text character for character."""
        assert render(DEFAULT_TEMPLATES[kind], (FIELDS | changes), strip=False) == kept

    @pytest.mark.parametrize(("kind", "changes", "kept", "stripped"), RENDERED)
    def test_default_text_with_diacritics_stripped(
        self, kind: NoticeKind, changes: dict[str, str], kept: str, stripped: str
    ) -> None:
        """Stripping (the default) turns đ into d and drops every mark: pure GSM-7."""
        assert render(DEFAULT_TEMPLATES[kind], (FIELDS | changes), strip=True) == stripped

    @pytest.mark.parametrize(("kind", "changes", "kept", "stripped"), RENDERED)
    def test_stripped_text_fits_gsm7(
        self, kind: NoticeKind, changes: dict[str, str], kept: str, stripped: str
    ) -> None:
        """Stripping exists to avoid UCS-2: every stripped notice goes as GSM-7."""
        assert fits_gsm7(render(DEFAULT_TEMPLATES[kind], (FIELDS | changes), strip=True))


class TestRender:
    def test_seed_000_override_kept(self) -> None:
        """Sở Công Thương Khánh Hòa's own wording renders as its notice printed it."""
        assert render(SEED_000_RESULT, FIELDS, strip=False) == (
            "TB: Hồ sơ của quý ông/bà (MS: 0101701234) đã được giải quyết xong. "
            "Mời ông/bà đến Bộ phận Một cửa Sở Công Thương để nhận kết quả"
        )

    def test_seed_000_override_stripped(self) -> None:
        """An override is stripped like a default."""
        assert render(SEED_000_RESULT, FIELDS, strip=True) == (
            "TB: Ho so cua quy ong/ba (MS: 0101701234) da duoc giai quyet xong. "
            "Moi ong/ba den Bo phan Mot cua So Cong Thuong de nhan ket qua"
        )

    def test_national_receipt_number_is_shown_as_given(self) -> None:
        """Receipt numbers in the national form pass through untouched, dots and dashes."""
        fields = FIELDS | {"receipt_no": "000.00.06.H56-231027-0361"}

        assert render(DEFAULT_TEMPLATES["result"], fields, strip=True).startswith(
            "Thong bao: Ho so cua quy Ong/Ba (000.00.06.H56-231027-0361) da"
        )

    def test_decomposed_input_comes_out_composed(self) -> None:
        """An agency name typed in NFD renders identical to the NFC one."""
        fields = FIELDS | {"agency_name": unicodedata.normalize("NFD", "Sở Công Thương")}

        assert render("{agency_name}", fields, strip=False) == "Sở Công Thương"

    def test_braces_in_a_value_are_not_a_template(self) -> None:
        """Field values are text: a step named '{agency_name}' is shown, not substituted."""
        fields = FIELDS | {"step": "{agency_name}"}

        assert render("{step}", fields, strip=False) == "{agency_name}"

    def test_unused_fields_are_fine(self) -> None:
        """An override may leave out fields the gateway always supplies."""
        assert render("Hồ sơ {receipt_no}", FIELDS, strip=False) == "Hồ sơ 0101701234"

    def test_a_missing_field_is_an_error_naming_it(self) -> None:
        """Never a half-rendered SMS: a field not given fails, naming the field."""
        fields = {k: v for k, v in FIELDS.items() if k != "due_date"}

        with pytest.raises(TemplateError, match="due_date"):
            render(DEFAULT_TEMPLATES["apology"], fields, strip=True)

    def test_template_error_is_a_value_error(self) -> None:
        """Callers turning bad input into a `rejected` status catch ValueError."""
        with pytest.raises(ValueError, match="procedure"):
            render("{procedure}", {}, strip=False)

    def test_a_non_string_value_is_an_error_naming_it(self) -> None:
        """A None due date must not go out as the word 'None'."""
        fields: dict = FIELDS | {"due_date": None}

        with pytest.raises(TemplateError, match="due_date"):
            render(DEFAULT_TEMPLATES["receipt"], fields, strip=False)

    @pytest.mark.parametrize(
        "template",
        [
            "Hồ sơ {receipt_no",
            "Hồ sơ receipt_no}",
            "Hồ sơ {}",
            "Hồ sơ {0}",
            "Hồ sơ {receipt_no.upper}",
            "Hồ sơ {receipt_no[0]}",
            "Hồ sơ {receipt_no!r}",
            "Hồ sơ {receipt_no:>12}",
        ],
    )
    def test_only_plain_named_fields_are_accepted(self, template: str) -> None:
        """Malformed braces, positions, attributes, indexes and specs fail at once."""
        with pytest.raises(TemplateError):
            render(template, FIELDS, strip=False)

    def test_template_fields_lists_the_names_used(self) -> None:
        """Configuration checks an override's fields at start-up, not at the first SMS."""
        assert template_fields(DEFAULT_TEMPLATES["apology"]) == {
            "receipt_no",
            "due_date",
            "agency_name",
        }

    def test_doubled_braces_are_literal(self) -> None:
        """`{{` and `}}` print one brace and are not fields."""
        assert render("{{MS}} {receipt_no}", FIELDS, strip=False) == "{MS} 0101701234"


class TestTemplateFor:
    def test_default_when_no_override(self) -> None:
        """Without an override the SPEC text is used."""
        assert template_for("result", {}) == DEFAULT_TEMPLATES["result"]

    def test_agency_override_wins(self) -> None:
        """Seed 000: the agency's own wording replaces the default for that kind."""
        assert template_for("result", {"result": SEED_000_RESULT}) == SEED_000_RESULT

    def test_override_for_one_kind_leaves_the_others(self) -> None:
        """Overriding `result` does not change `supplement`."""
        overrides = {"result": SEED_000_RESULT}

        assert template_for(NoticeKind.SUPPLEMENT, overrides) == DEFAULT_TEMPLATES["supplement"]

    def test_unknown_kind_is_a_template_error(self) -> None:
        """A kind that is not a notice kind names the known ones."""
        with pytest.raises(TemplateError, match=r"unknown notice kind 'reminder'.*apology"):
            template_for("reminder", {})

    def test_empty_override_is_refused(self) -> None:
        """An empty template would send an empty SMS."""
        with pytest.raises(TemplateError, match="result"):
            template_for("result", {"result": "  "})


NATIONAL_CODES = [
    (1, "received"),
    (2, "received"),
    (3, "rejected"),
    (4, "processing"),
    (5, "needs_supplement"),
    (6, "needs_payment"),
    (7, "withdrawn"),
    (8, "rejected"),
    (9, "result_ready"),
    (10, "returned"),
]


class TestStatus:
    @pytest.mark.parametrize(("code", "status"), NATIONAL_CODES)
    def test_national_code_as_int(self, code: int, status: str) -> None:
        """The National Public Service Portal's numeric codes map to our statuses."""
        assert parse_status(code) == status

    @pytest.mark.parametrize(("code", "status"), NATIONAL_CODES)
    def test_national_code_as_string(self, code: int, status: str) -> None:
        """Some software sends the code as a JSON string; it means the same."""
        assert parse_status(str(code)) == status

    @pytest.mark.parametrize("status", sorted(STATUSES))
    def test_status_names_are_accepted_as_is(self, status: str) -> None:
        """Each of the eight status names parses to itself."""
        assert parse_status(status) == status

    @pytest.mark.parametrize(
        "value",
        [0, 11, -1, "0", "11", "foo", "", " 9", "Result_Ready", True, False, None, 3.5, 9.0],
    )
    def test_anything_else_is_rejected_naming_the_allowed_values(self, value: object) -> None:
        """The reason lists the names and the code range so the sender can fix its side."""
        with pytest.raises(ValueError, match=r"one of needs_payment.*national status code 1-10"):
            parse_status(value)

    @pytest.mark.parametrize(
        ("status", "kind"),
        [
            ("result_ready", NoticeKind.RESULT),
            ("needs_supplement", NoticeKind.SUPPLEMENT),
            ("received", NoticeKind.RECEIPT),
            ("needs_payment", NoticeKind.PAYMENT),
        ],
    )
    def test_entering_a_status_triggers_its_notice(self, status: str, kind: NoticeKind) -> None:
        """The four transitions that send a notice, per the SPEC table."""
        assert STATUS_TRIGGERS[status] is kind

    @pytest.mark.parametrize("status", ["processing", "returned", "rejected", "withdrawn"])
    def test_other_statuses_trigger_nothing(self, status: str) -> None:
        """Processing, returning, rejection and withdrawal send no notice of their own."""
        assert status not in STATUS_TRIGGERS

    def test_finished_statuses_get_no_apology(self) -> None:
        """A result exists or never will: nothing to apologise for."""
        assert {"result_ready", "returned", "rejected", "withdrawn"} == FINISHED_STATUSES


class TestFormatDate:
    @pytest.mark.parametrize(
        ("day", "text"),
        [(date(2026, 11, 25), "25/11/2026"), (date(2026, 1, 5), "05/01/2026")],
    )
    def test_dates_print_as_dd_mm_yyyy(self, day: date, text: str) -> None:
        """Day first, two digits each for day and month, four for the year."""
        assert format_date(day) == text

    def test_apology_due_date_is_printed_in_the_text(self) -> None:
        """The apology names the due date as dd/mm/yyyy."""
        fields = FIELDS | {"due_date": format_date(date(2026, 11, 25))}

        assert "vào ngày 25/11/2026." in render(DEFAULT_TEMPLATES["apology"], fields, strip=False)


DUE = date(2026, 11, 25)


class TestTimeliness:
    @pytest.mark.parametrize(
        ("today", "finished_on", "expected"),
        [
            pytest.param(date(2026, 11, 24), None, "Đúng hạn", id="open-before-due"),
            pytest.param(DUE, None, "Đúng hạn", id="open-on-due-date"),
            pytest.param(date(2026, 11, 26), None, "Trễ hạn", id="open-a-day-after"),
            pytest.param(date(2026, 11, 30), DUE, "Đúng hạn", id="finished-on-due-date"),
            pytest.param(date(2026, 11, 30), date(2026, 11, 20), "Đúng hạn", id="finished-early"),
            pytest.param(
                date(2026, 12, 10), date(2026, 11, 26), "Trễ hạn", id="finished-late-asked-later"
            ),
        ],
    )
    def test_on_time_until_the_due_date_has_passed(
        self, today: date, finished_on: date | None, expected: str
    ) -> None:
        """Open: on time while today <= due. Finished: judged on the day it finished."""
        assert timeliness(today=today, due_date=DUE, finished_on=finished_on) == expected

    def test_no_due_date_is_on_time(self) -> None:
        """A dossier without a due date cannot be late."""
        assert timeliness(today=date(2030, 1, 1), due_date=None, finished_on=None) == "Đúng hạn"
