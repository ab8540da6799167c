"""Stripping makes a Vietnamese text pure GSM-7 (SPEC: "pure GSM-7"): the đồng sign a fee
text carries must not turn a stripped agency's SMS into UCS-2 (twice the segments)."""

from __future__ import annotations

from gateway.notices import render
from gateway.smpp.text import fits_gsm7


def test_a_stripped_fee_text_with_the_dong_sign_is_gsm7():
    text = render("{t}", {"t": "Lệ phí hồ sơ 0101701234: 50.000₫"}, strip=True)
    assert fits_gsm7(text), repr(text)
