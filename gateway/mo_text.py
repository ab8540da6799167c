"""What a citizen typed on a phone → keyword and argument.

People type `mckh 0101701234`, `MCKH0101701234`, `Mckh: 0101701234.`,
` MCKH_000.00.06.H56-231027-0361 `, and Vietnamese keyboards add diacritics (`hđ` for
`HD`). The keyword is matched on an upper-cased, diacritics-free copy; the argument keeps
its characters, because receipt numbers carry dots and dashes that matter.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from gateway.smpp.text import strip_diacritics

# Between a keyword and its argument, and between several receipt numbers.
_SEPARATORS = " \t\r\n_-.:,;"
# Around a receipt number: what phones and people add, never part of the number.
_PUNCTUATION = " \t\r\n.,;:!?()[]{}\"'<>_"
_SPLIT = re.compile(r"[\s,;]+")


@dataclass(frozen=True, slots=True)
class Parsed:
    """`keyword` is the configured keyword (upper case) or None when none matched."""

    keyword: str | None
    argument: str
    text: str  # the whole MO, NFC and trimmed, for logs and the not-understood reply


def parse_mo(text: str, keywords: Iterable[str]) -> Parsed:
    """Find which configured keyword `text` starts with (longest wins) and the rest.

    A keyword followed directly by a letter is not that keyword (`HDSD` is not `HD`), but
    one glued to a digit is (`MCKH0101701234`).
    """
    whole = unicodedata.normalize("NFC", text).strip()
    folded = _fold(whole)
    for keyword in sorted({k.upper() for k in keywords}, key=len, reverse=True):
        if not folded.startswith(keyword):
            continue
        rest_folded = folded[len(keyword) :]
        if rest_folded and rest_folded[0].isalpha():
            continue
        # `_fold` keeps one character per character, so positions match `whole`.
        argument = whole[len(keyword) :].lstrip(_SEPARATORS).rstrip(_PUNCTUATION)
        return Parsed(keyword, argument, whole)
    return Parsed(None, whole, whole)


def receipt_numbers(argument: str, limit: int) -> tuple[list[str], int]:
    """The receipt numbers in `argument` (at most `limit`) and how many were left out.

    Receipt numbers have digits; words around them (`ạ`, `cho em hỏi`) do not, and are
    dropped. If no word has a digit, they are all kept: the not-found reply shows them.
    """
    tokens: list[str] = []
    for token in _SPLIT.split(argument):
        token = token.strip(_PUNCTUATION)
        if token and token.upper() not in (t.upper() for t in tokens):
            tokens.append(token)
    if any(_has_digit(t) for t in tokens):
        tokens = [t for t in tokens if _has_digit(t)]
    return tokens[:limit], max(0, len(tokens) - limit)


def _has_digit(token: str) -> bool:
    return any(ch.isdigit() for ch in token)


def _fold(text: str) -> str:
    """Upper case without diacritics, one output character per input character."""
    out = []
    for ch in text:
        plain = strip_diacritics(ch)
        out.append(plain.upper() if len(plain) == 1 and len(plain.upper()) == 1 else ch)
    return "".join(out)
