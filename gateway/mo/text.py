"""What a citizen typed on a phone → keyword and argument, and the receipt numbers in it.

People type `mckh 0101701234`, `MCKH0101701234`, `Mckh: 0101701234.`,
`Cho em hỏi MCKH 0101 701 234 ạ`, paste `Mã hồ sơ: 000.00.06.H56–231027–0361` or a whole
URL from a receipt's QR code, and Vietnamese keyboards add diacritics (`hđ` for `HD`).
The keyword is matched on an upper-cased, diacritics-free copy; receipt numbers keep their
characters, because they carry dots and dashes that matter.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

from gateway.phone.numbers import is_phone_number
from gateway.smpp.fold import fold_punctuation
from gateway.smpp.text import strip_diacritics

# Around an argument: separators after the keyword (`MCKH: `, `MCKH_`), punctuation and
# any kind of space at either end; never part of a receipt number's first or last character.
_EDGES = re.compile(r"^[\W_]+|[\W_]+$")

# A receipt number is letters, digits, dots and dashes (`0101701234`,
# `000.00.06.H56-231027-0361`); anything else separates two of them.
_TOKEN = re.compile(r"[0-9A-Za-z](?:[0-9A-Za-z.\-]*[0-9A-Za-z])?")
# The national form with spaces around its dashes, as typed or re-flowed by a word processor.
_NATIONAL_SPACED = re.compile(
    r"\b([0-9A-Za-z]+(?:\.[0-9A-Za-z]+)+)\s*-\s*(\d{6})\s*-\s*(\d{1,6})\b"
)
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
# Between the values taken from a URL: not a space, so that its path `/2026/11/` never
# joins into one number as digit groups typed with spaces do.
_URL_SEPARATOR = " ; "
# Query keys whose values are never receipts: times and trackers added by the apps a link
# went through (`?t=1700000000`, `fbclid=…`, `utm_source=zalo`).
_URL_NOISE_KEYS = re.compile(r"(?:_|t|ts|time|timestamp|v|fbclid|gclid|zarsrc|utm_\w*)", re.I)
# A word for "number" or "dossier" glued to the digits it introduces (`HS0101701234`,
# `so0101701234`, `MaHS0101701234`); the diacritics-free spellings, since `số`, `mã`
# already split on their accented letter.
_GLUED_PREFIX = re.compile(r"(?:MA|SO|HS|MS|MHS|MAHS|SOHS|MASO|BN|SBN)(?=[0-9]+$)", re.I)
# Digit groups joined by dashes (`0101-701-234`), not the national form (which has dots).
_DASHED_GROUPS = re.compile(r"[0-9]{2,7}(?:-[0-9]{2,7})+")
# A web page's name in a URL's last segment (`/tra-cuu/0101701234.html`).
_PAGE_SUFFIX = re.compile(r"\.(?:html?|php|aspx?|jsp)$", re.I)
# Dates and times are not receipts (`hẹn trả 25/11/2026`, `lúc 10h30`); standing alone,
# never inside a longer token such as the national form's `000.00.06`.
_DATE_OR_TIME = re.compile(
    r"(?<![\w.\-/])(?:\d{1,2}[/.\-]\d{1,2}(?:[/.\-]\d{2,4})?|\d{1,2}[hg:]\d{0,2})(?![\w.\-/])",
    re.IGNORECASE,
)

MIN_DIGITS = 5
"""A token with fewer digits is a word or a count (`lần 2`, `năm 2026`), not a receipt."""
STRAY_DIGITS = 3
"""A token with at least this many digits, but fewer than MIN_DIGITS, is what a citizen
meant as a receipt number when the MO names no other (`MCKH 9999`): too short to be one,
so the answer is that no dossier has it, not that no number was given."""
GROUP_BELOW = 8
"""Digit groups shorter than this, separated by spaces only, are one number written in
groups (`0101 701 234`, `+84 905 123 456`); a group this long is a number on its own."""
WHOLE = 10
"""Digits of a whole provincial receipt or phone number: a run this long takes no more
groups, so `0101701234 0905 123 456` stays two numbers."""


@dataclass(frozen=True, slots=True)
class Parsed:
    """`keyword` is the configured keyword (upper case) or None when none matched."""

    keyword: str | None
    argument: str
    text: str  # the whole MO, NFC and trimmed, for logs and the not-understood reply


def parse_mo(text: str, keywords: Iterable[str]) -> Parsed:
    """Find the configured keyword in `text` and the rest of the text as its argument.

    A keyword at the start wins (longest first); otherwise a keyword standing as a word
    anywhere (`Cho em hỏi MCKH 0101701234`), longest first, then earliest, and the
    argument is the text around it. A keyword followed directly by a letter is not that
    keyword (`HDSD` is not `HD`), but one glued to a digit is (`MCKH0101701234`).
    """
    whole = unicodedata.normalize("NFC", text).strip()
    folded = _fold(whole)
    ordered = sorted({k.upper() for k in keywords}, key=len, reverse=True)
    for keyword in ordered:
        if folded.startswith(keyword) and _ends_word(folded, len(keyword)):
            # `_fold` keeps one character per character, so positions match `whole`.
            return Parsed(keyword, _trim(whole[len(keyword) :]), whole)
    for keyword in ordered:
        start = _word_at(folded, keyword)
        if start is None:
            continue
        before, after = _trim(whole[:start]), _trim(whole[start + len(keyword) :])
        return Parsed(keyword, f"{before} {after}".strip(), whole)
    return Parsed(None, whole, whole)


def receipt_numbers(argument: str, limit: int) -> tuple[list[str], int]:
    """The receipt numbers in `argument` (at most `limit`) and how many were left out.

    Words (`ạ`, `cho em hỏi`, `Mã hồ sơ:`), dates, times and tokens of fewer than
    `MIN_DIGITS` digits are dropped, and so is a word glued before the digits
    (`HS0101701234`); digit groups separated by spaces or dashes are joined
    (`0101 701 234`, `0101-701-234`); Unicode dashes and invisible spaces are folded; a
    URL gives those of its path and query values that look like receipt numbers.
    Telephone numbers are kept, after the others, because only the mirror can tell
    whether a dossier has that number as its receipt: the MCKH handler drops the ones it
    does not find (`is_phone_number`).
    """
    numbers: list[str] = []
    phones: list[str] = []
    seen: set[str] = set()
    for token in _tokens(_normalise(argument)):
        if token.upper() in seen or _digits(token) < MIN_DIGITS:
            continue
        seen.add(token.upper())
        (phones if token.isdigit() and is_phone_number(token) else numbers).append(token)
    numbers += phones
    return numbers[:limit], max(0, len(numbers) - limit)


def short_numbers(argument: str) -> list[str]:
    """Tokens of `argument` too short to be receipt numbers (STRAY_DIGITS to MIN_DIGITS - 1
    digits), dates and times left out: what a citizen typed as a receipt number that
    `receipt_numbers` cannot take, so that the reply can name it."""
    found: list[str] = []
    for token in _tokens(_normalise(argument)):
        if STRAY_DIGITS <= _digits(token) < MIN_DIGITS and token not in found:
            found.append(token)
    return found


def _normalise(text: str) -> str:
    """Fullwidth digits and letters to ASCII, dashes and spaces folded, URLs opened up."""
    text = fold_punctuation(unicodedata.normalize("NFKC", text))
    text = _URL.sub(lambda m: _url_parts(m.group()), text)
    text = _DATE_OR_TIME.sub(" ", text)
    return _NATIONAL_SPACED.sub(r"\1-\2-\3", text)


def _url_parts(url: str) -> str:
    """The query values and path segments of a URL that look like receipt numbers: where a
    receipt's QR code puts the number. Apps that pass a link on add times and trackers
    (`?t=1700000000&fbclid=…`) and sites put dates in paths (`/2026/11/`); none of them
    may become a receipt number or push the real one out of the lookup limit."""
    parts = urlsplit(url if "://" in url else "http://" + url)
    pairs = parse_qsl(parts.query) + parse_qsl(parts.fragment)
    values = [unquote(v) for k, v in pairs if not _URL_NOISE_KEYS.fullmatch(k)]
    values += [_PAGE_SUFFIX.sub("", unquote(s)) for s in parts.path.split("/")]
    kept = [v for v in values if _receipt_shaped(v)]
    return _URL_SEPARATOR + _URL_SEPARATOR.join(kept) + _URL_SEPARATOR


def _receipt_shaped(value: str) -> bool:
    """One receipt-shaped token with enough digits, mostly digits (not a random id)."""
    if not _TOKEN.fullmatch(value) or _digits(value) < MIN_DIGITS:
        return False
    return _digits(value) >= sum(ch.isalpha() for ch in value)


def _tokens(text: str) -> list[str]:
    """Receipt-shaped tokens, with digit groups that a space separates joined."""
    tokens: list[str] = []
    end = 0
    for match in _TOKEN.finditer(text):
        token = _GLUED_PREFIX.sub("", match.group())
        if _DASHED_GROUPS.fullmatch(token):
            token = token.replace("-", "")
        gap = text[end : match.start()]
        end = match.end()
        if tokens and _joins(tokens[-1], gap, token):
            tokens[-1] += token
        else:
            tokens.append(token)
    return tokens


def _joins(previous: str, gap: str, token: str) -> bool:
    return (
        gap.isspace()
        and previous.isdigit()
        and token.isdigit()
        and 2 <= len(token) < GROUP_BELOW
        and 2 <= len(previous) < WHOLE
    )


def _trim(text: str) -> str:
    return _EDGES.sub("", text)


def _digits(token: str) -> int:
    return sum(ch.isdigit() for ch in token)


def _ends_word(folded: str, end: int) -> bool:
    return end == len(folded) or not folded[end].isalpha()


def _word_at(folded: str, keyword: str) -> int | None:
    """Where `keyword` first stands as a word in `folded` (not inside another word)."""
    start = folded.find(keyword)
    while start != -1:
        if (start == 0 or not folded[start - 1].isalnum()) and _ends_word(
            folded, start + len(keyword)
        ):
            return start
        start = folded.find(keyword, start + 1)
    return None


def _fold(text: str) -> str:
    """Upper case without diacritics, one output character per input character."""
    out = []
    for ch in text:
        plain = strip_diacritics(ch)
        out.append(plain.upper() if len(plain) == 1 and len(plain.upper()) == 1 else ch)
    return "".join(out)
