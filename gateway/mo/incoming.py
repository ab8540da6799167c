"""Where an MO enters the mo package: the SMPP layer's `Mo`, or a citizen's text in the
Zalo Official Account's chat → `Incoming`.

The one module of `gateway.mo` that knows `gateway.smpp.inbound`; the rest of the
package reads the fields it needs from `Incoming`, whichever channel the MO came by. A
chat message's reply goes back in the chat (`chat_user`), and a bare receipt number there
(what a QR scanner pastes) is the lookup it means (`from_chat`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gateway.mo.text import parse_mo, receipt_numbers
from gateway.smpp.inbound import Mo

__all__ = ["Incoming", "Mo", "from_chat", "incoming"]

# How the sender of a chat message is written in the MO log and keyed by the guard.
CHAT_SENDER = "zalo:{user}"


@dataclass(frozen=True, slots=True)
class Incoming:
    """A citizen's message to one of our shortcodes."""

    sender: str  # source_addr as the SMSC gave it (digits, or an alphanumeric name)
    destination: str  # the number it was sent to, carrier prefixes included (848083)
    text: str
    complete: bool  # False: a long MO some of whose parts never came
    parts: int
    link: str | None = None  # the SMSC link it came in on: its reply goes back by it
    chat_user: str | None = None  # a Zalo chat's user: its reply goes back in the chat


def incoming(mo: Mo) -> Incoming:
    return Incoming(
        sender=mo.source,
        destination=mo.destination,
        text=mo.text,
        complete=mo.complete,
        parts=mo.parts,
        link=mo.link,
    )


def from_chat(
    user: str, text: str, *, keywords: Iterable[str], lookup: str | None, shortcode: str
) -> Incoming:
    """A text a citizen sent in the Zalo chat. With no keyword in it but a receipt number,
    it is the `lookup` keyword's question (`MCKH <number>`)."""
    words = list(keywords)
    if lookup is not None and parse_mo(text, words).keyword is None:
        numbers, _ = receipt_numbers(text, 1)
        if numbers:
            text = f"{lookup} {text.strip()}"
    return Incoming(
        sender=CHAT_SENDER.format(user=user),
        destination=shortcode,
        text=text,
        complete=True,
        parts=1,
        chat_user=user,
    )
