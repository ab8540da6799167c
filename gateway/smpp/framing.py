"""SMPP on a byte stream: whole frames in, PDUs out, sequence numbers; for both ends.

The ESME's `Link` and the bundled SMSC simulator read and write with the same code, so
the simulator tests the framing the daemon uses instead of an imitation of it: the
length is checked before the body is read (past a bad length the stream has no frames),
body-less commands are built from their header alone, and sequence numbers run
1..0x7FFFFFFF and round again.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from gateway.smpp import pdu
from gateway.smpp.codes import CommandId

# Commands that are a header and nothing else (SMPP 3.4 4.1.2, 4.11, 4.12, 4.3).
BODYLESS: dict[str, CommandId] = {
    "enquire_link": CommandId.ENQUIRE_LINK,
    "enquire_link_resp": CommandId.ENQUIRE_LINK_RESP,
    "unbind": CommandId.UNBIND,
    "unbind_resp": CommandId.UNBIND_RESP,
    "generic_nack": CommandId.GENERIC_NACK,
}


async def read_frame(reader: asyncio.StreamReader) -> bytes:
    """The next whole PDU. Raises FramingError for an impossible command_length, and
    IncompleteReadError when the stream ends inside a frame."""
    head = await reader.readexactly(4)
    length = int.from_bytes(head, "big")
    pdu.check_length(length)
    return head + await reader.readexactly(length - 4)


def frame(command: str, sequence: int, status: int = 0, **fields: Any) -> bytes:
    """One PDU as bytes, by command name; body-less commands take no fields."""
    if command in BODYLESS:
        return pdu.encode_header_only(BODYLESS[command], sequence, status)
    return pdu.encode(command, sequence, status, **fields)


def response_header(command_id: int, sequence: int, status: int) -> bytes:
    """A header-only answer to a request of `command_id` (a refusal carries no body)."""
    return pdu.encode_header_only(command_id | pdu.RESPONSE_BIT, sequence, status)


class Sequence:
    """SMPP sequence numbers, 1..0x7FFFFFFF and round again.

    The ESME keeps one per session, across its links, so that numbers do not restart at
    1 on a new connection: a stale response from the last one cannot match a new request.
    """

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def next(self) -> int:
        seq = next(self._counter)
        if seq > 0x7FFFFFFF:
            self._counter = itertools.count(2)
            seq = 1
        return seq
