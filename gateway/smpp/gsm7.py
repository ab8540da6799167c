"""The GSM 03.38 alphabet (3GPP TS 23.038): which characters it has, what each costs,
and unpacked septets to text and back.

Apart from the SMS encoding (gateway/smpp/text.py) because it is a table, not a rule
about parts: the encoder, the segment count and the MO decoder all read the same one.
"""

from __future__ import annotations

import unicodedata
from typing import Final

__all__ = [
    "ESC",
    "EXTENSION_CHARS",
    "GSM_CHARS",
    "decode_gsm7",
    "fits_gsm7",
    "gsm7_length",
    "to_septets",
]

# --- GSM 03.38 tables (3GPP TS 23.038, section 6.2.1) ---------------------------------

ESC: Final[int] = 0x1B

# Index = septet value. 0x1B is the escape to the extension table, not a character:
# a literal U+001B in the text is *not* GSM-encodable (it would be read as an escape).
_BASIC: Final[str] = (
    # 0x00-0x0F
    "@£$¥èéùìòÇ\nØø\rÅå"
    # 0x10-0x1F (0x1B = ESC)
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    # 0x20-0x2F (0x24 is the currency sign, not the dollar)
    " !\"#¤%&'()*+,-./"
    # 0x30-0x3F
    "0123456789:;<=>?"
    # 0x40-0x4F (0x40 is the inverted exclamation mark, not "@")
    "¡ABCDEFGHIJKLMNO"
    # 0x50-0x5F (0x5F is the section sign, not "_")
    "PQRSTUVWXYZÄÖÑÜ§"
    # 0x60-0x6F (0x60 is the inverted question mark, not the backtick)
    "¿abcdefghijklmno"
    # 0x70-0x7F
    "pqrstuvwxyzäöñüà"
)
assert len(_BASIC) == 128

# Extension table: septet after ESC -> character. Each costs two septets.
_EXTENSION: Final[dict[int, str]] = {
    0x0A: "\x0c",  # form feed (page break)
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}

# Built once: encode() is on the send hot path, so encoding is one C-level str.translate
# (each character -> its septet(s) as code points < 0x80) followed by .encode("latin-1").
_TRANSLATE: Final[dict[int, str]] = {
    ord(ch): chr(code) for code, ch in enumerate(_BASIC) if code != ESC
} | {ord(ch): chr(ESC) + chr(code) for code, ch in _EXTENSION.items()}
GSM_CHARS: Final[frozenset[str]] = frozenset(chr(c) for c in _TRANSLATE)
EXTENSION_CHARS: Final[frozenset[str]] = frozenset(_EXTENSION.values())

# Decoding: septet -> character, and ESC + septet -> character.
_DECODE_BASIC: Final[tuple[str, ...]] = tuple(
    " " if i == ESC else ch for i, ch in enumerate(_BASIC)
)

# --- GSM-7 predicates -----------------------------------------------------------------


def fits_gsm7(text: str) -> bool:
    """True when every character (after NFC) is in the GSM 03.38 default or extension table.

    NFC first because a decomposed "é" (e + U+0301) is GSM-encodable once composed.
    """
    return GSM_CHARS.issuperset(unicodedata.normalize("NFC", text))


def gsm7_length(text: str) -> int:
    """Septets the text costs in GSM-7 (after NFC): extension characters cost two.

    Why it matters: "€" or "[" takes two septets, so 160 visible characters with one of
    them no longer fit one SMS. Raises ValueError when the text does not fit GSM-7.
    """
    text = unicodedata.normalize("NFC", text)
    if not GSM_CHARS.issuperset(text):
        raise ValueError("text contains characters outside the GSM 03.38 alphabet")
    return len(text) + sum(1 for ch in text if ch in EXTENSION_CHARS)


def to_septets(text: str) -> bytes:
    """Unpacked GSM-7 of an NFC text whose characters are all in GSM_CHARS: one octet per
    septet, an extension character as ESC and its septet."""
    return text.translate(_TRANSLATE).encode("latin-1")


def decode_gsm7(payload: bytes) -> str:
    """Unpacked GSM-7 to text, total over all byte strings.

    3GPP TS 23.038: an escape followed by a septet with no extension character shows the
    basic-table character; an escape at the very end or ESC ESC shows a space. Octets
    with the high bit set cannot be septets and become U+FFFD.
    """
    out: list[str] = []
    i = 0
    n = len(payload)
    while i < n:
        octet = payload[i]
        if octet == ESC:
            if i + 1 >= n:
                out.append(" ")
                break
            nxt = payload[i + 1]
            ext = _EXTENSION.get(nxt)
            if ext is not None:
                out.append(ext)
            elif nxt < 0x80:
                out.append(_DECODE_BASIC[nxt])
            else:
                out.append("\ufffd")
            i += 2
            continue
        out.append(_DECODE_BASIC[octet] if octet < 0x80 else "\ufffd")
        i += 1
    return "".join(out)
