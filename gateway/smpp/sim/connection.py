"""One ESME connection as the simulator sees it: its bind, what it awaits, its writer."""

from __future__ import annotations

import asyncio
import contextlib

from gateway.smpp.framing import Sequence


class Conn:
    """One ESME connection as the SMSC sees it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.mode: str | None = None  # transmitter / receiver / transceiver once bound
        self.system_id = ""
        # The bind's system_type: which of several ESMEs on one account (one system_id)
        # this session is, as the submits it sends are recorded.
        self.system_type = ""
        self.outstanding = 0
        self.pending: dict[int, asyncio.Future[int]] = {}
        self.sequence = Sequence()
        self.closed = False

    @property
    def receives(self) -> bool:
        return self.mode in ("receiver", "transceiver") and not self.closed

    def write(self, data: bytes) -> None:
        if not self.closed and not self.writer.is_closing():
            self.writer.write(data)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for fut in self.pending.values():
            if not fut.done():
                fut.set_exception(ConnectionResetError("ESME connection closed"))
        with contextlib.suppress(Exception):
            self.writer.close()
