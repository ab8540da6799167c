"""How typed-on-a-phone MO texts are read: keyword, argument, receipt numbers."""

from __future__ import annotations

import pytest

from gateway.mo.text import parse_mo, receipt_numbers

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
        ("abc", []),
        ("", []),
        ("0101 701 234", ["0101701234"]),
        ("010 170 1234", ["0101701234"]),
        ("0101\u00a0701\u2009234", ["0101701234"]),
        ("0101701234 0101701235", ["0101701234", "0101701235"]),
        ("lần 2 0101 701 234", ["0101701234"]),
        ("000.00.06.H56–231027–0361", [NATIONAL]),
        ("000.00.06.H56 - 231027 - 0361", [NATIONAL]),
        ("000.00.06.H56\u00ad-231027-0361\u200b", [NATIONAL]),
        ("Mã hồ sơ:000.00.06.H56-231027-0361", [NATIONAL]),
        (f"https://dvc.gov.vn/tra-cuu?ma_ho_so={NATIONAL}&x=1", [NATIONAL]),
        ("http://motcua.example.vn/hs/0101701234#top", ["0101701234"]),
        ("０１０１７０１２３４", ["0101701234"]),
        ("0101701234 hẹn trả 25/11/2026 lúc 10h30", ["0101701234"]),
        ("0101701234 năm 2026", ["0101701234"]),
        ("ngày 20-11-2026", []),
    ],
)
def test_receipt_numbers(argument, numbers):
    assert receipt_numbers(argument, 5) == (numbers, 0)


def test_receipt_numbers_beyond_the_limit_are_counted():
    numbers = " ".join(f"010170123{n}" for n in range(5))

    assert receipt_numbers(numbers, 3) == (["0101701230", "0101701231", "0101701232"], 2)


def test_phone_numbers_come_after_receipts_and_are_left_out_first():
    """The handler drops a phone number it does not find as a receipt; beyond the limit it
    is the one cut, not a receipt typed after it."""
    assert receipt_numbers("sdt 0905 123 456 ho so 0101701234", 1) == (["0101701234"], 1)


def test_a_whole_number_takes_no_more_digit_groups():
    """A run of 10 digits is complete: the groups after it are another number."""
    assert receipt_numbers("0101701234 0905 123 456", 5) == (["0101701234", "0905123456"], 0)


@pytest.mark.parametrize(
    ("text", "keyword", "argument"),
    [
        ("Cho em hỏi MCKH 0101701234", "MCKH", "Cho em hỏi 0101701234"),
        ("Cho em hoi mckh 0101701234 a", "MCKH", "Cho em hoi 0101701234 a"),
        ("Hồ sơ 0101701234 MCKH", "MCKH", "Hồ sơ 0101701234"),
        ("Xin hỏi MCKH0101701234.", "MCKH", "Xin hỏi 0101701234"),
        ("Em cần HD", "HD", "Em cần"),
        ("cho em hỏi hd MCKH 0101701234", "MCKH", "cho em hỏi hd 0101701234"),
        ("Cho em hỏi HDSD", None, "Cho em hỏi HDSD"),
        ("Cho em hoi xMCKH 0101701234", None, "Cho em hoi xMCKH 0101701234"),
    ],
)
def test_keyword_not_first_is_found_as_a_word(text, keyword, argument):
    """A keyword standing as a word anywhere counts, the longest first; inside a word not."""
    parsed = parse_mo(text, KEYWORDS)

    assert (parsed.keyword, parsed.argument) == (keyword, argument)
