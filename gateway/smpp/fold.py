"""Diacritics stripping: Vietnamese text folded to pure GSM-7 for agencies that strip.

Why a fold and not only "drop the combining marks": office software pastes typographic
punctuation into agency names and step names ("Sở Lao động – Thương binh và Xã hội",
"“Trả kết quả”"), and one such character outside GSM 03.38 turns the whole message into
UCS-2, 70 characters a part instead of 160 — the en dash alone makes a result notice cost
3 SMS instead of 1. Every replacement below is a GSM-7 character (SPEC, "Rules from the
seeds"); characters with no sensible GSM-7 form are left as they are, and `check-config`
warns about them.
"""

from __future__ import annotations

import unicodedata
from typing import Final

__all__ = ["fold_punctuation", "strip_diacritics"]

# đ/Đ are letters in their own right (no decomposition), so NFD alone leaves them in place
# and the message would fall back to UCS-2. U+00D0 (Icelandic eth) is visually identical to
# Đ and turns up in text converted from legacy Vietnamese encodings; it is mapped too.
_STROKE_D: Final[dict[int, str]] = {0x0111: "d", 0x0110: "D", 0x00D0: "D"}

_DASHES: Final[str] = (
    "\u2010"  # hyphen
    "\u2011"  # non-breaking hyphen
    "\u2012"  # figure dash
    "\u2013"  # en dash (Word's autocorrect of " - ")
    "\u2014"  # em dash
    "\u2015"  # horizontal bar
    "\u2043"  # hyphen bullet
    "\u2212"  # minus sign
    "\ufe58"  # small em dash
    "\ufe63"  # small hyphen-minus
    "\uff0d"  # fullwidth hyphen-minus
)
_SPACES: Final[str] = (
    "\t"  # GSM 03.38 has no tab
    "\u00a0"  # no-break space (spreadsheets, HTML &nbsp;)
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"  # en/em/thin...
    "\u202f"  # narrow no-break space
    "\u205f"  # medium mathematical space
    "\u3000"  # ideographic space
)
_INVISIBLE: Final[str] = (
    "\u00ad"  # soft hyphen: shown only at a line break, never on a phone
    "\u200b"  # zero-width space
    "\u200c"  # zero-width non-joiner
    "\u200d"  # zero-width joiner
    "\u2060"  # word joiner
    "\ufeff"  # byte order mark / zero-width no-break space
)
# “ ” „ ‟ ″ « »
_DOUBLE_QUOTES: Final[str] = "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"
# ‘ ’ ‚ ‛ ′ ‹ › and the backtick and acute accent typed for an apostrophe (not GSM-7)
_SINGLE_QUOTES: Final[str] = "\u2018\u2019\u201a\u201b\u2032\u2039\u203a`\u00b4"

_PUNCTUATION: Final[dict[int, str]] = (
    {ord(ch): "-" for ch in _DASHES}
    | {ord(ch): " " for ch in _SPACES}
    | {ord(ch): "" for ch in _INVISIBLE}
    | {ord(ch): '"' for ch in _DOUBLE_QUOTES}
    | {ord(ch): "'" for ch in _SINGLE_QUOTES}
    | {0x2026: "..."}  # horizontal ellipsis
)

# Symbols outside GSM 03.38 that Vietnamese texts carry, written as Vietnamese SMS users
# write them without the symbol: "50.000d", "25oC", "2x3", "No 12". Only when stripping:
# MO parsing has no use for them, and an agency that keeps diacritics sends UCS-2 anyway.
_SYMBOLS: Final[dict[int, str]] = {
    0x20AB: "d",  # ₫ dong sign
    0x00B0: "o",  # ° degree sign
    0x00D7: "x",  # × multiplication sign
    0x2022: "-",  # • bullet
    0x00B7: ".",  # · middle dot
    0x2116: "No",  # № numero sign
    0x02BC: "'",  # ʼ modifier letter apostrophe (Vietnamese keyboards' apostrophe)
}


class _DropCombining(dict[int, int | None]):
    """A `str.translate` table that drops combining marks, filled on first sight of each
    code point: the character loop runs in C instead of a generator per character."""

    def __missing__(self, code: int) -> int | None:
        value = None if unicodedata.combining(chr(code)) else code
        self[code] = value
        return value


_COMBINING: Final = _DropCombining()


def fold_punctuation(text: str) -> str:
    """Typographic dashes, quotes, ellipsis and spaces to their GSM-7 (ASCII) forms, and
    invisible characters (soft hyphen, zero-width space) dropped; letters are untouched.

    Also what MO parsing uses: a receipt number pasted from a word processor carries an en
    dash or a no-break space that the citizen cannot see.
    """
    return text.translate(_PUNCTUATION)


def strip_diacritics(text: str) -> str:
    """Remove Vietnamese (and other) diacritics and fold typographic punctuation to GSM-7.

    Why: many carriers reject or overcharge Unicode brandname SMS, and a UCS-2 part holds
    67-70 characters against 153-160 for GSM-7, so stripping usually halves the cost.
    Steps: NFC, đ→d / Đ→D, NFD, drop every combining mark, NFC again, then – — → -,
    “ ” „ « » → ", ‘ ’ → ', … → ..., no-break and other spaces → space, invisible
    characters (soft hyphen, zero-width space) dropped; symbols (₫ ° × • · № ʼ) to their
    usual SMS spelling.
    "Sở Lao động – Thương binh" -> "So Lao dong - Thuong binh".
    """
    if text.isascii():
        return fold_punctuation(text) if "\t" in text or "`" in text else text
    text = unicodedata.normalize("NFC", text).translate(_STROKE_D)
    kept = unicodedata.normalize("NFD", text).translate(_COMBINING)
    return fold_punctuation(unicodedata.normalize("NFC", kept).translate(_SYMBOLS))
