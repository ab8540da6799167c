"""How typed-on-a-phone MO texts are read: keyword, argument, receipt numbers."""

from __future__ import annotations

import pytest

from gateway.mo_text import parse_mo, receipt_numbers

KEYWORDS = ("MCKH", "HELP", "HD")

NATIONAL = "000.00.06.H56-231027-0361"


@pytest.mark.parametrize(
    ("text", "keyword", "argument"),
    [
        ("MCKH 0101701234", "MCKH", "0101701234"),
        ("mckh 0101701234", "MCKH", "0101701234"),
        ("Mckh 0101701234", "MCKH", "0101701234"),
        ("  MCKH   0101701234  ", "MCKH", "0101701234"),
        ("MCKH0101701234", "MCKH", "0101701234"),
        ("MCKH_0101701234", "MCKH", "0101701234"),
        ("MCKH-0101701234", "MCKH", "0101701234"),
        ("MCKH.0101701234", "MCKH", "0101701234"),
        ("MCKH:0101701234", "MCKH", "0101701234"),
        ("MCKH: 0101701234.", "MCKH", "0101701234"),
        ("MCKH 0101701234!!", "MCKH", "0101701234"),
        ("MCKH\t0101701234\r\n", "MCKH", "0101701234"),
        (f"MCKH {NATIONAL}", "MCKH", NATIONAL),
        (f"mckh {NATIONAL.lower()}", "MCKH", NATIONAL.lower()),
        (f"MCKH{NATIONAL}", "MCKH", NATIONAL),
        (f"MCKH {NATIONAL}.", "MCKH", NATIONAL),
        ("MCKH", "MCKH", ""),
        ("mckh   ", "MCKH", ""),
        ("MCKH 0101701234 0101701235", "MCKH", "0101701234 0101701235"),
        ("hd", "HD", ""),
        ("HĐ", "HD", ""),
        ("hđ", "HD", ""),
        ("Help", "HELP", ""),
        ("HELP me", "HELP", "me"),
        ("HDSD", None, "HDSD"),
        ("MCKHX 123", None, "MCKHX 123"),
        ("", None, ""),
        ("   ", None, ""),
        ("Xin chào", None, "Xin chào"),
        ("0101701234", None, "0101701234"),
    ],
)
def test_keyword_and_argument(text, keyword, argument):
    parsed = parse_mo(text, KEYWORDS)

    assert (parsed.keyword, parsed.argument) == (keyword, argument)


def test_the_longest_keyword_wins():
    assert parse_mo("HELP", ("HE", "HELP")).keyword == "HELP"


def test_text_is_normalised_to_nfc():
    decomposed = "MCKH Ho\u0302\u0300 so\u031b"

    assert parse_mo(decomposed, KEYWORDS).text == "MCKH Hồ sơ"


@pytest.mark.parametrize(
    ("argument", "numbers"),
    [
        ("0101701234", ["0101701234"]),
        ("0101701234 0101701235", ["0101701234", "0101701235"]),
        ("0101701234, 0101701235;0101701236", ["0101701234", "0101701235", "0101701236"]),
        (f"({NATIONAL})", [NATIONAL]),
        ("0101701234 0101701234", ["0101701234"]),
        ("0101701234 ạ", ["0101701234"]),
        ("cho em hỏi hồ sơ 0101701234 với", ["0101701234"]),
        ("abc", ["abc"]),
        ("", []),
    ],
)
def test_receipt_numbers(argument, numbers):
    assert receipt_numbers(argument, 5) == (numbers, 0)


def test_receipt_numbers_beyond_the_limit_are_counted():
    assert receipt_numbers("1 2 3 4 5", 3) == (["1", "2", "3"], 2)
