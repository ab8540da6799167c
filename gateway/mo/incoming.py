"""Where an MO enters the mo package: the SMPP layer's `Mo` → `Incoming`.

The one module of `gateway.mo` that knows `gateway.smpp.inbound`; the rest of the
package reads the fields it needs from `Incoming`, whichever channel the MO came by.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.smpp.inbound import Mo

__all__ = ["Incoming", "Mo", "incoming"]


@dataclass(frozen=True, slots=True)
class Incoming:
    """A citizen's message to one of our shortcodes."""

    sender: str  # source_addr as the SMSC gave it (digits, or an alphanumeric name)
    destination: str  # the number it was sent to, carrier prefixes included (848083)
    text: str
    complete: bool  # False: a long MO some of whose parts never came
    parts: int
    link: str | None = None  # the SMSC link it came in on: its reply goes back by it


def incoming(mo: Mo) -> Incoming:
    return Incoming(
        sender=mo.source,
        destination=mo.destination,
        text=mo.text,
        complete=mo.complete,
        parts=mo.parts,
        link=mo.link,
    )
