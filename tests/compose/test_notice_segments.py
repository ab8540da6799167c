"""What each notice costs for an agency that strips diacritics, with real agency names and
steps as office software pastes them (en dashes, curly quotes, ellipses, no-break spaces).

Each text goes through the real composer (templates, stripping) or the MCKH handler, and
then through the encoder the outbox uses: the counts below are what the carrier bills.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from types import MappingProxyType

import pytest

from gateway.app import composer_settings
from gateway.compose.composer import Composer
from gateway.domain.dossier import DossierRow
from gateway.settings.config import AgencyConfig, Config, default_config
from gateway.smpp.text import GSM7, encode
from handlers import mckh
from tests.support.mo import handler_context

KINDS = ("result", "supplement", "apology", "receipt", "payment")
PROVINCIAL = "0101701234"
NATIONAL = "000.00.06.H56-231027-0361"
MONDAY = date(2026, 11, 23)


def stripping_agency(name: str) -> Config:
    agency = AgencyConfig(code="AG", name=name, diacritics="strip", notices=frozenset(KINDS))
    return dataclasses.replace(default_config(), agencies=MappingProxyType({"AG": agency}))


def dossier(receipt_no: str, step: str) -> DossierRow:
    return DossierRow(
        receipt_key=receipt_no.upper(),
        receipt_no=receipt_no,
        agency="AG",
        procedure="Cấp Giấy phép",
        procedure_code=None,
        phone="0905123456",
        step=step,
        status="processing",
        due_date="2026-11-25",
        same_day=False,
        occurred_at="2026-11-20T09:00:00+07:00",
        finished_on=None,
    )


def texts(name: str, receipt_no: str, step: str) -> list[str]:
    """The five notices and the MCKH reply for one dossier, as they would be sent."""
    config = stripping_agency(name)
    composer = Composer(composer_settings(config), clock=lambda: 0.0)
    row = dossier(receipt_no, step)
    notices = [composer.notice(kind, row, event_id="e-1", ref="r-1").text for kind in KINDS]
    context = handler_context(config, MONDAY)
    return [*notices, mckh.one(context.view(row), context)]


# (agency name, step, receipt number) -> segments of
# (result, supplement, apology, receipt, payment, MCKH reply)
TABLE = [
    ("Sở Lao động – Thương binh và Xã hội", "“Trả kết quả”", PROVINCIAL, (1, 1, 2, 1, 2, 1)),
    ("Sở Lao động – Thương binh và Xã hội", "“Trả kết quả”", NATIONAL, (2, 2, 2, 1, 2, 1)),
    ("Sở Lao động — Thương binh và Xã hội", "Phê duyệt – Ký số", PROVINCIAL, (1, 1, 2, 1, 2, 1)),
    (
        "Sở Nông nghiệp và Phát triển nông thôn",
        "Chuyển Phòng Chuyên môn…",
        PROVINCIAL,
        (1, 1, 2, 1, 2, 1),
    ),
    ("UBND phường Lộc Thọ – TP Nha Trang", "Tiếp nhận\u00a0hồ sơ", PROVINCIAL, (1, 1, 2, 1, 2, 1)),
    ("Sở Văn hóa, Thể thao và Du lịch", "‘Chờ bổ sung’", NATIONAL, (2, 2, 2, 1, 2, 1)),
    ("Ban Quản lý các Khu công nghiệp", "Thẩm định\u2009hồ sơ", PROVINCIAL, (1, 1, 2, 1, 2, 1)),
    ("Sở Kế hoạch và Đầu tư", "«Trình Lãnh đạo ký»", PROVINCIAL, (1, 1, 2, 1, 2, 1)),
    ("Sở Tài nguyên\u00a0và Môi trường", "Trả kết quả", PROVINCIAL, (1, 1, 2, 1, 2, 1)),
    ("UBND huyện Cẩm Mỹ", "Phòng TN\u2010MT xử lý", NATIONAL, (1, 1, 2, 1, 2, 1)),
]


@pytest.mark.parametrize(("name", "step", "receipt_no", "segments"), TABLE)
def test_stripped_notices_are_gsm7_and_cost_these_segments(
    name: str, step: str, receipt_no: str, segments: tuple[int, ...]
) -> None:
    encoded = [encode(text) for text in texts(name, receipt_no, step)]

    assert [e.data_coding for e in encoded] == [GSM7] * len(encoded)
    assert tuple(e.segments for e in encoded) == segments


def test_en_dash_agency_result_notice_is_one_segment() -> None:
    """The case that cost 3 UCS-2 parts: the en dash in the agency's name now folds."""
    text = texts("Sở Lao động – Thương binh và Xã hội", PROVINCIAL, "Trả kết quả")[0]

    assert "So Lao dong - Thuong binh va Xa hoi" in text
    assert encode(text).segments == 1


def test_curly_quoted_step_mckh_reply_is_one_segment() -> None:
    """A step typed “Trả kết quả” made the MCKH reply 2 UCS-2 parts; now one GSM-7 part."""
    text = texts("Sở Công Thương", PROVINCIAL, "“Trả kết quả”")[5]

    assert 'buoc "Tra ket qua"' in text
    assert encode(text).segments == 1
