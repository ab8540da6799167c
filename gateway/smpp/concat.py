"""SMS concatenation: the UDH of a part (read and written), and references for outbound ones.

Apart from the text encoding (gateway/smpp/text.py, which re-exports these) because
neither depends on the alphabet: a part's UDH and its reference are the same whether the
body is GSM-7, Latin-1 or UCS-2.
"""

from __future__ import annotations

import random
from collections import OrderedDict
from dataclasses import dataclass

__all__ = ["Concat", "ReferenceAllocator", "concat_udh", "split_udh"]


# --- inbound UDH ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Concat:
    """Concatenation info of one inbound part: which message, how many parts, which one."""

    reference: int
    total: int
    seqnum: int


def split_udh(short_message: bytes) -> tuple[Concat | None, bytes]:
    """Separate the UDH of an inbound short_message (esm_class & 0x40) from its body.

    Recognises concatenation IEs 0x00 (8-bit reference) and 0x08 (16-bit reference) and
    skips any other IE. A malformed header (length beyond the data, an IE overrunning
    the header, a concatenation IE of the wrong length, total 0, seq 0 or above total)
    returns ``(None, short_message)`` unchanged: the bytes are still delivered as one
    message rather than dropped, and nothing here raises on carrier input.
    """
    if not short_message:
        return None, short_message
    udhl = short_message[0]
    if 1 + udhl > len(short_message):
        return None, short_message
    udh = short_message[1 : 1 + udhl]
    concat: Concat | None = None
    i = 0
    while i < udhl:
        if i + 2 > udhl:
            return None, short_message
        iei = udh[i]
        iedl = udh[i + 1]
        start = i + 2
        end = start + iedl
        if end > udhl:
            return None, short_message
        if iei == 0x00 or iei == 0x08:
            if iei == 0x00 and iedl == 3:
                reference, total, seqnum = udh[start], udh[start + 1], udh[start + 2]
            elif iei == 0x08 and iedl == 4:
                reference = (udh[start] << 8) | udh[start + 1]
                total, seqnum = udh[start + 2], udh[start + 3]
            else:
                return None, short_message
            if total == 0 or seqnum == 0 or seqnum > total:
                return None, short_message
            # TS 23.040 9.2.3.24: when an IE repeats, the last occurrence is used.
            concat = Concat(reference, total, seqnum)
        i = end
    return concat, short_message[1 + udhl :]


def concat_udh(index: int, total: int, reference: int, ref16: bool) -> bytes:
    """The UDH of part `index` of `total` (1-based) under `reference`: what `split_udh`
    reads back. The encoder writes it for outbound parts, the simulator for MO parts."""
    if ref16:
        # UDHL 6, IEI 08 (16-bit reference concatenation), IEDL 4, ref hi, ref lo, total, seq
        return bytes((0x06, 0x08, 0x04, (reference >> 8) & 0xFF, reference & 0xFF, total, index))
    # UDHL 5, IEI 00 (8-bit reference concatenation), IEDL 3, ref, total, seq
    return bytes((0x05, 0x00, 0x03, reference & 0xFF, total, index))


# --- concatenation references ---------------------------------------------------------


class ReferenceAllocator:
    """Concatenation reference numbers that do not repeat for the same destination within
    255 (or 65535) messages.

    Why: a handset reassembles parts by (sender, reference); a random 8-bit reference
    collides after a few hundred long messages to one phone and two notices get merged.
    Each destination keeps a counter that starts at a random value (so a restart does not
    reuse the references of the previous run from 0) and increments per message.

    Memory is bounded: at most ``max_destinations`` (default 100,000) counters are kept,
    least recently used evicted first. An evicted destination restarts at a random value,
    which only matters if it had a long message within the last few seconds to minutes
    while 100,000 other phones were served. Not thread-safe (one event loop uses it).
    """

    __slots__ = ("_last", "_max", "_modulus", "_rng")

    def __init__(
        self,
        ref16: bool = False,
        *,
        max_destinations: int = 100_000,
        rng: random.Random | None = None,
    ) -> None:
        if max_destinations < 1:
            raise ValueError("max_destinations must be at least 1")
        self._modulus = 0x10000 if ref16 else 0x100
        self._max = max_destinations
        self._rng = rng if rng is not None else random.Random()
        self._last: OrderedDict[str, int] = OrderedDict()

    def next(self, destination: str) -> int:
        """The reference to use for the next multi-part message to ``destination``."""
        last = self._last.get(destination)
        if last is None:
            value = self._rng.randrange(self._modulus)
            self._last[destination] = value
            if len(self._last) > self._max:
                self._last.popitem(last=False)
        else:
            value = (last + 1) % self._modulus
            self._last[destination] = value
            self._last.move_to_end(destination)
        return value

    def __len__(self) -> int:
        """Destinations currently tracked (at most ``max_destinations``)."""
        return len(self._last)
