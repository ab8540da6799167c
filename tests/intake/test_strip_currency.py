"""Stripping makes a Vietnamese text pure GSM-7 (SPEC: "pure GSM-7"): the đồng sign a fee
text carries, and the few other symbols office texts hold, must not turn a stripped
agency's SMS into UCS-2 (twice the segments)."""

from __future__ import annotations

import pytest

from gateway.compose.templates import render
from gateway.smpp.fold import fold_punctuation, strip_diacritics
from gateway.smpp.text import fits_gsm7


def test_a_stripped_fee_text_with_the_dong_sign_is_gsm7():
    text = render("{t}", {"t": "Lệ phí hồ sơ 0101701234: 50.000₫"}, strip=True)
    assert fits_gsm7(text), repr(text)
    assert text.endswith("50.000d")


@pytest.mark.parametrize(
    ("symbol_text", "folded"),
    [
        ("50.000₫", "50.000d"),
        ("Nhiệt độ 25°C", "Nhiet do 25oC"),
        ("Ảnh 3×4", "Anh 3x4"),
        ("• Bản sao", "- Ban sao"),
        ("Tầng 2 · Phòng 5", "Tang 2 . Phong 5"),
        ("Quyết định №12", "Quyet dinh No12"),
        ("Đakʼnông", "Dak'nong"),
    ],
)
def test_stripping_folds_symbols_to_their_sms_spelling(symbol_text, folded):
    assert strip_diacritics(symbol_text) == folded
    assert fits_gsm7(folded)


def test_symbols_are_left_alone_by_the_punctuation_fold_mo_parsing_uses():
    assert fold_punctuation("50.000₫ 25°C") == "50.000₫ 25°C"
