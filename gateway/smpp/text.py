"""SMS text: GSM 03.38 / UCS-2 encoding, splitting into concatenated parts, MO decoding.

Pure functions; no I/O. The GSM 03.38 table is gateway/smpp/gsm7.py, the UDH reader and
the concatenation references gateway/smpp/concat.py, diacritics stripping
gateway/smpp/fold.py; all are re-exported here.

One cut of a text into parts exists, `_cut`: `encode` builds the parts from it and
`segment_count` counts them, so the number the composer stores when it queues a message
is the number of submit_sm the sender writes for it. `Encoding` carries the two settings
both must use (16-bit references, what the SMSC reads data_coding 0 as).

Why our own splitter instead of ``smpplib.gsm.make_parts``: that one splits a GSM-7
escape pair (0x1B + character) and UTF-16 surrogate pairs across parts, maps the backtick
to 0x5F ("§"), does not normalise (NFD Vietnamese costs an extra part) and draws a random
8-bit reference per message (collisions after a few hundred long messages to one phone,
and the handset then merges two different messages).

GSM-7 is produced *unpacked* (one septet value per octet): with data_coding 0 over SMPP the
SMSC does the packing, and the part limits below already account for the UDH septets.

Some SMSCs read data_coding 0 ("SMSC default alphabet", SMPP 3.4 5.2.19) as Latin-1, so
an unpacked '@' (0x00) arrives as NUL and '$' (0x02) as a control character. For them
(`smpp.default_alphabet: latin1`) the same GSM-7 text goes with data_coding 0 but as
Latin-1 octets, as Kannel's `alt-charset` does: the SMSC still delivers GSM-7 on the air,
so the part limits stay 160/153 septets. data_coding 3 (Latin-1) is not used: it has no
GSM 03.38 counterpart, an SMSC may hand it to the phone as 8-bit data, and 8-bit parts
hold only 140/134 characters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

from gateway.smpp.concat import Concat, ReferenceAllocator, concat_udh, split_udh
from gateway.smpp.fold import strip_diacritics
from gateway.smpp.gsm7 import (
    ESC,
    GSM_CHARS,
    decode_gsm7,
    fits_gsm7,
    gsm7_length,
    to_septets,
)

__all__ = [
    "ALPHABETS",
    "GSM7",
    "MAX_PARTS",
    "UCS2",
    "Alphabet",
    "Concat",
    "Encoded",
    "Encoding",
    "ReferenceAllocator",
    "decode",
    "encode",
    "fits_gsm7",
    "gsm7_length",
    "segment_count",
    "split_udh",
    "strip_diacritics",
]

Alphabet = Literal["gsm7", "latin1"]
"""What the SMSC reads data_coding 0 as: GSM 03.38 (the standard) or Latin-1."""
ALPHABETS: Final[tuple[str, ...]] = ("gsm7", "latin1")

GSM7: Final[int] = 0x00
"""data_coding for the SMSC default alphabet (GSM 03.38, unpacked over SMPP)."""
UCS2: Final[int] = 0x08
"""data_coding for UCS-2; we send UTF-16BE so characters beyond the BMP survive."""

# What goes as data_coding 0 to an SMSC that reads it as Latin-1: GSM-7 characters that
# Latin-1 has (not €, not the Greek capitals; those texts go as UCS-2).
_REPERTOIRE: Final[dict[str, frozenset[str]]] = {
    "gsm7": GSM_CHARS,
    "latin1": frozenset(ch for ch in GSM_CHARS if ord(ch) < 0x100),
}

# --- limits (3GPP TS 23.040 9.2.3.24.1 / 9.2.3.24.8) ----------------------------------

_GSM7_SINGLE: Final[int] = 160  # septets in 140 octets
_UCS2_SINGLE: Final[int] = 70  # UTF-16 code units in 140 octets
# 6-octet UDH (05 00 03 ..) = 48 bits -> 7 septets with fill; 7-octet UDH -> 8 septets.
_GSM7_PART: Final[dict[bool, int]] = {False: 153, True: 152}
# 140 - 6 = 134 octets -> 67 units; 140 - 7 = 133 octets -> 66 units (whole units only).
_UCS2_PART: Final[dict[bool, int]] = {False: 67, True: 66}
_MAX_PARTS: Final[int] = 255  # the total/seq fields of the UDH are one octet
MAX_PARTS: Final[int] = _MAX_PARTS  # for callers that refuse such texts before encoding

_LONE_SURROGATE: Final[re.Pattern[str]] = re.compile("[\ud800-\udfff]")


# --- encoding -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Encoded:
    """One text ready for submit_sm: its data_coding and one short_message per part."""

    data_coding: int
    """GSM7 or UCS2."""
    parts: tuple[bytes, ...]
    """Each is the complete short_message of one submit_sm, UDH included when udhi."""
    udhi: bool
    """True when the parts start with a UDH: the caller sets esm_class |= 0x40."""

    @property
    def segments(self) -> int:
        """Number of SMS the carrier bills (one submit_sm each)."""
        return len(self.parts)


def _split(
    payload: bytes, limit: int, unit: int, splits_char: Callable[[bytes, int], bool]
) -> list[bytes]:
    """Cut ``payload`` into chunks of at most ``limit`` units of ``unit`` octets.

    ``splits_char(payload, cut)`` says whether cutting at octet ``cut`` would separate the
    two halves of one character; the cut then moves back one unit, so the whole character
    opens the next part. Greedy filling in order gives the fewest parts possible.
    """
    size = limit * unit
    chunks: list[bytes] = []
    start = 0
    end_all = len(payload)
    while start < end_all:
        cut = min(start + size, end_all)
        if cut < end_all and splits_char(payload, cut):
            cut -= unit
        chunks.append(payload[start:cut])
        start = cut
    return chunks


def _splits_escape(payload: bytes, cut: int) -> bool:
    # In our own output every 0x1B is an escape prefix (a literal ESC never gets through
    # fits_gsm7 and no extension code is 0x1B), so a chunk ending in 0x1B cuts a pair.
    return payload[cut - 1] == ESC


def _splits_surrogate(payload: bytes, cut: int) -> bool:
    # The last code unit of the chunk is a high surrogate (D800-DBFF): its low half follows.
    return 0xD8 <= payload[cut - 2] <= 0xDB


def _utf16(text: str) -> bytes:
    try:
        return text.encode("utf-16-be")
    except UnicodeEncodeError:
        # Lone surrogates are not text a phone can show; send U+FFFD rather than fail.
        return _LONE_SURROGATE.sub("\ufffd", text).encode("utf-16-be")


def _too_many(parts: int) -> ValueError:
    return ValueError(
        f"text needs {parts} SMS parts; concatenation allows at most {_MAX_PARTS}"
        " (the UDH counts parts in one octet)"
    )


def _cut(text: str, ref16: bool, alphabet: Alphabet) -> tuple[int, list[bytes], bool]:
    """(data_coding, the body of each part, whether the parts are concatenated).

    The one place the rules live: NFC, GSM-7 when the alphabet has every character,
    else UCS-2; one part up to 160 septets / 70 units, else parts of 153/67 (152/66 with
    ``ref16``) that never cut a GSM escape pair or a surrogate pair.
    """
    text = unicodedata.normalize("NFC", text)
    if _REPERTOIRE[alphabet].issuperset(text):
        payload = to_septets(text)
        if len(payload) <= _GSM7_SINGLE:
            return GSM7, [_as_alphabet(payload, alphabet)], False
        chunks = _split(payload, _GSM7_PART[ref16], 1, _splits_escape)
        return GSM7, [_as_alphabet(chunk, alphabet) for chunk in chunks], True
    payload = _utf16(text)
    if len(payload) <= 2 * _UCS2_SINGLE:
        return UCS2, [payload], False
    return UCS2, _split(payload, _UCS2_PART[ref16], 2, _splits_surrogate), True


def encode(
    text: str, *, reference: int = 0, ref16: bool = False, alphabet: Alphabet = "gsm7"
) -> Encoded:
    """Encode ``text`` for submit_sm, splitting it into concatenated parts when needed.

    The cut is `_cut`'s; each part of a long text starts with a concatenation UDH
    carrying ``reference`` (mod 256, or 65536 with ``ref16``), so every part decodes on
    its own. The text is never truncated; more than 255 parts raise ValueError.

    ``alphabet="latin1"``: for an SMSC that reads data_coding 0 as Latin-1, the GSM-7
    parts (same cuts, same limits) are written as Latin-1 octets, one per character.
    """
    data_coding, chunks, concatenated = _cut(text, ref16, alphabet)
    if not concatenated:
        return Encoded(data_coding, tuple(chunks), False)
    total = len(chunks)
    if total > _MAX_PARTS:
        raise _too_many(total)
    ref = reference % (0x10000 if ref16 else 0x100)
    parts = tuple(concat_udh(i, total, ref, ref16) + chunk for i, chunk in enumerate(chunks, 1))
    return Encoded(data_coding, parts, True)


def segment_count(text: str, *, ref16: bool = False, alphabet: Alphabet = "gsm7") -> int:
    """Number of SMS ``encode(text, ...)`` produces: the same cut, counted.

    Unlike encode(), it does not raise past 255 parts: it just returns the count, so the
    composer can refuse such a text with the number in its reason.
    """
    return len(_cut(text, ref16, alphabet)[1])


@dataclass(frozen=True, slots=True)
class Encoding:
    """How this gateway's SMSC takes text, for everyone who encodes or counts it.

    The composer counts a message's segments and the sender cuts its parts with the same
    `Encoding` (built from `smpp.ref16` and `smpp.default_alphabet`): a text with "€" for
    a Latin-1 SMSC goes as UCS-2, and is counted so.
    """

    ref16: bool = False
    alphabet: Alphabet = "gsm7"

    def encode(self, text: str, *, reference: int = 0) -> Encoded:
        return encode(text, reference=reference, ref16=self.ref16, alphabet=self.alphabet)

    def segments(self, text: str) -> int:
        return segment_count(text, ref16=self.ref16, alphabet=self.alphabet)


def _as_alphabet(septets: bytes, alphabet: Alphabet) -> bytes:
    """Unpacked GSM-7 as the SMSC reads data_coding 0: unchanged, or as Latin-1 octets."""
    return septets if alphabet == "gsm7" else decode_gsm7(septets).encode("latin-1")


# --- decoding (MO) --------------------------------------------------------------------


def _alphabet(data_coding: int) -> int | None:
    """Map a GSM 03.38 data coding scheme (values 0x10 and up) to 0 GSM-7, 4 8-bit, 8 UCS-2.

    Some SMSCs pass the handset's DCS through unchanged (e.g. 0x18 = UCS-2 class 0, 0xF0 =
    GSM-7 class 0), so MO text would be garbled if only the SMPP values were recognised.
    """
    group = data_coding & 0xF0
    if group in (0x10, 0x20, 0x30, 0x50, 0x60, 0x70):
        if data_coding & 0x20:
            return None  # compressed: not supported by handsets in practice
        return (0x00, 0x04, 0x08, None)[(data_coding >> 2) & 0x03]
    if group == 0x40:
        return (0x00, 0x04, 0x08, None)[(data_coding >> 2) & 0x03]
    if group in (0xC0, 0xD0):
        return 0x00  # message waiting indication, GSM-7
    if group == 0xE0:
        return 0x08  # message waiting indication, UCS-2
    if group == 0xF0:
        return 0x04 if data_coding & 0x04 else 0x00
    return None


def decode(data_coding: int, payload: bytes) -> str:
    """Text of an inbound short_message (UDH already removed) for its data_coding.

    Never raises, whatever the bytes: an MO costs the citizen money, so a garbled one
    still reaches the keyword dispatcher (and gets the help reply) instead of being lost.
    0x00 unpacked GSM-7, 0x01 ASCII/IA5, 0x03 Latin-1, 0x08 UCS-2/UTF-16BE, 0x02/0x04
    8-bit data as Latin-1, GSM 03.38 DCS groups by their alphabet bits, else UTF-8;
    undecodable sequences become U+FFFD.
    """
    if data_coding >= 0x10:
        alphabet = _alphabet(data_coding)
        if alphabet is None:
            return payload.decode("utf-8", errors="replace")
        data_coding = alphabet
    if data_coding == GSM7:
        return decode_gsm7(payload)
    if data_coding == 0x01:
        return payload.decode("ascii", errors="replace")
    if data_coding in (0x02, 0x03, 0x04):
        return payload.decode("latin-1")
    if data_coding == UCS2:
        return payload.decode("utf-16-be", errors="replace")
    return payload.decode("utf-8", errors="replace")
