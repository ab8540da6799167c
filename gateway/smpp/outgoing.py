"""A text to one phone → the submit_sm for each of its parts.

What the SMPP fields of a message are is decided here, not by whoever sends it: the
encoding (`Encoding`: one cut for the composer's count and for the parts), the UDHI bit
for a concatenated part, the source address's TON/NPI (SPEC: the brandname goes as
alphanumeric, TON 5 NPI 0; a shortcode, for MO replies, as network-specific, TON 3 NPI
0), the destination's international form (TON 1 NPI 1), and receipts always requested.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from gateway.smpp.codes import ESM_UDHI
from gateway.smpp.model import Submit
from gateway.smpp.text import Encoded, Encoding

# TON values (SMPP 3.4 5.2.5) for the source addresses this gateway sends from.
TON_INTERNATIONAL = 1
TON_NETWORK_SPECIFIC = 3
TON_ALPHANUMERIC = 5
NPI_UNKNOWN = 0
NPI_ISDN = 1


def source_address(source: str) -> tuple[int, int]:
    """(TON, NPI) of a source: digits are a shortcode, anything else a brandname."""
    if source.isdigit():
        return TON_NETWORK_SPECIFIC, NPI_UNKNOWN
    return TON_ALPHANUMERIC, NPI_UNKNOWN


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message as the SMSC is to get it: its parts, encoded once."""

    source: str
    destination: str  # international form, 84…
    encoded: Encoded
    expires_at: float | None = None
    clock: Callable[[], float] = field(default=time.time, compare=False, repr=False)

    @classmethod
    def of(
        cls,
        text: str,
        *,
        source: str,
        destination: str,
        reference: int,
        encoding: Encoding,
        expires_at: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> Outgoing:
        return cls(
            source, destination, encoding.encode(text, reference=reference), expires_at, clock
        )

    @property
    def segments(self) -> int:
        return self.encoded.segments

    def submit(self, seq: int, *, may_write: Callable[[], bool] | None = None) -> Submit:
        """The submit_sm of part `seq` (1-based); `may_write` is asked right before its
        write (quiet hours), None for always."""
        source_ton, source_npi = source_address(self.source)
        return Submit(
            source=self.source,
            source_ton=source_ton,
            source_npi=source_npi,
            destination=self.destination,
            dest_ton=TON_INTERNATIONAL,
            dest_npi=NPI_ISDN,
            short_message=self.encoded.parts[seq - 1],
            data_coding=self.encoded.data_coding,
            esm_class=ESM_UDHI if self.encoded.udhi else 0,
            registered_delivery=1,
            expires_at=self.expires_at,
            clock=self.clock,
            may_write=may_write,
        )
