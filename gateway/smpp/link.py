"""One TCP connection to the SMSC: framing, sequence numbers, request/response matching.

A `Link` reads whole frames (the length is checked before the body), answers what the
protocol itself asks (enquire_link, unbind, undecodable PDUs), hands every other request
(deliver_sm, data_sm) to the session, and matches responses to the requests it sent by
sequence number. When the connection ends, every waiter fails at once with
`ConnectError`: nobody waits for a response that can no longer come.

A request sent with `send()` stays registered under its sequence number until its
response comes or the connection ends, however long that takes: a response that arrives
after the caller's own deadline still reaches it (`Session.submit` relies on this, so a
slow SMSC's late submit_sm_resp settles the message instead of being dropped as
unexpected). `request()` is the short form for bind, enquire_link and unbind, which give
up at their timeout and forget the sequence.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any

import structlog

from gateway.smpp import pdu
from gateway.smpp.errors import ConnectError, FramingError, OutcomeUnknown, ProtocolError
from gateway.smpp.framing import Sequence, frame, read_frame
from gateway.smpp.pdu import CommandId

__all__ = ["Link", "Pending", "RequestHandler", "Sequence"]

log = structlog.get_logger("gateway.smpp.link")

RequestHandler = Callable[["Link", Any], Awaitable[None]]


@dataclass(slots=True)
class Pending:
    """A request written to the link, waiting for its response (or the link's end)."""

    sequence: int
    command: str
    sent_at: float
    future: asyncio.Future[Any]


class Link:
    """A connected socket speaking SMPP; not yet bound when created."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        name: str,
        on_request: RequestHandler,
        on_malformed: Callable[[ProtocolError], None] | None = None,
        sequence: Sequence | None = None,
    ) -> None:
        self.name = name
        self._reader = reader
        self._writer = writer
        self._on_request = on_request
        self._on_malformed = on_malformed
        self._pending: dict[int, Pending] = {}
        self._answered = asyncio.Event()
        # Shared by every link of a session: a late response from a closed connection
        # carries a number no request on this one has, so it settles nothing here.
        self._sequence = sequence if sequence is not None else Sequence()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = asyncio.Event()
        self._close_reason: BaseException | None = None
        self.last_rx = time.monotonic()
        self.peer_unbound = False
        # Set when the link takes no new submits and closes once the others are answered.
        self.retiring = False
        # Sequences whose submit waited so long that the link is being retired for them:
        # retiring does not wait for their answers (it still takes them if they come).
        self.expired: set[int] = set()

    # -- connection ------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        *,
        timeout: float,
        name: str,
        on_request: RequestHandler,
        on_malformed: Callable[[ProtocolError], None] | None = None,
        sequence: Sequence | None = None,
    ) -> Link:
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for loses a cancellation that
            # arrives as the connect completes, and a closing session would bind again.
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(host, port)
        except (OSError, TimeoutError) as exc:
            raise ConnectError(f"cannot connect to {host}:{port}: {exc}") from exc
        return cls(
            reader,
            writer,
            name=name,
            on_request=on_request,
            on_malformed=on_malformed,
            sequence=sequence,
        )

    @property
    def is_open(self) -> bool:
        # A transport can be closing (a send failed: peer reset) before the read loop
        # has heard; such a link is no use to write to either.
        return not self._closed.is_set() and not self._writer.is_closing()

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    def next_sequence(self) -> int:
        return self._sequence.next()

    def close(self, reason: BaseException | None = None) -> None:
        """Close the socket and fail every waiter; safe to call more than once."""
        if self._closed.is_set():
            return
        self._close_reason = reason
        self._closed.set()
        err = ConnectError(f"link {self.name} closed" + (f": {reason}" if reason else ""))
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(err)
        self._answered.set()
        with contextlib.suppress(Exception):
            self._writer.close()
        for task in list(self._tasks):
            task.cancel()

    async def wait_closed(self) -> None:
        await self._closed.wait()

    # -- writing ---------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if self._closed.is_set():
            raise ConnectError(f"link {self.name} is closed")
        if self._writer.is_closing():
            # Close now rather than when the read loop hears: whoever waits for a usable
            # link must see this one gone, or a retry would find it "open" again at once.
            self.close(ConnectionResetError("transport closed"))
            raise ConnectError(f"link {self.name} is closed")
        self._writer.write(data)

    def respond(self, command: str, sequence: int, status: int = 0, **fields: Any) -> None:
        """Send a response; a closed link drops it (the SMSC will redeliver the request)."""
        with contextlib.suppress(ConnectError):
            self.write(frame(command, sequence, status, **fields))

    def send(self, command: str, **fields: Any) -> Pending:
        """Write a request; its `future` gets the response whenever it comes.

        The sequence stays registered until `forget()`: a late response still settles
        it, and the link's end fails it with `ConnectError`. Raises `ConnectError` (and
        registers nothing) when nothing could be written.
        """
        seq = self.next_sequence()
        data = frame(command, seq, **fields)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        pending = Pending(seq, command, time.monotonic(), fut)
        self.write(data)
        self._pending[seq] = pending
        return pending

    def forget(self, pending: Pending) -> None:
        """The caller no longer waits: a response for this sequence is unexpected now."""
        if self._pending.get(pending.sequence) is pending:
            del self._pending[pending.sequence]
        if pending.future.done() and not pending.future.cancelled():
            pending.future.exception()  # retrieved: no "never retrieved" warning

    async def request(self, command: str, *, timeout: float, **fields: Any) -> Any:
        """Send a request and return its response PDU (whatever its command_status).

        Raises `ConnectError` when nothing was written, `OutcomeUnknown` when the request
        went out and no response came within `timeout` or the link ended first.
        """
        pending = self.send(command, **fields)
        try:
            try:
                # asyncio.timeout, not wait_for: a cancellation that arrives with the
                # response must still cancel (3.11's wait_for returns the result instead).
                async with asyncio.timeout(timeout):
                    return await asyncio.shield(pending.future)
            except TimeoutError as exc:
                raise OutcomeUnknown(f"no {command}_resp within {timeout:g}s") from exc
            except ConnectError as exc:
                raise OutcomeUnknown(f"link lost before {command}_resp") from exc
        finally:
            self.forget(pending)

    async def wait_answered(self, except_sequences: Collection[int] = ()) -> None:
        """Until every request but `except_sequences` is answered, or the link ends."""
        while not self._closed.is_set() and any(
            seq not in except_sequences for seq in self._pending
        ):
            self._answered.clear()
            await self._answered.wait()

    async def drain(self) -> None:
        with contextlib.suppress(Exception):
            await self._writer.drain()

    # -- reading ---------------------------------------------------------------------

    async def read_loop(self) -> None:
        """Read frames until the connection ends; returns normally on EOF or close()."""
        try:
            while True:
                data = await read_frame(self._reader)
                self.last_rx = time.monotonic()
                self._dispatch(data)
        except (asyncio.IncompleteReadError, ConnectionError, OSError) as exc:
            self.close(exc)
        except FramingError as exc:
            log.error("smpp_framing_error", link=self.name, error=str(exc))
            self.close(exc)
        except asyncio.CancelledError:
            self.close()
            raise
        finally:
            self.close()

    def _dispatch(self, data: bytes) -> None:
        _length, command_id, status, sequence = pdu.header(data)
        if command_id & pdu.RESPONSE_BIT:
            pending = self._pending.get(sequence)
            if pending is not None and not _answers(command_id, pending.command):
                # A response of another command under this sequence (a sloppy SMSC
                # echoing the wrong counter) is not this request's answer: it waits on.
                pending = None
            fut = None if pending is None else pending.future
            if command_id == CommandId.GENERIC_NACK and fut is None:
                log.warning("smpp_generic_nack", link=self.name, status=status, sequence=sequence)
                return
            if fut is None or fut.done():
                log.warning(
                    "smpp_unexpected_response",
                    link=self.name,
                    sequence=sequence,
                    command_id=f"0x{command_id:08X}",
                )
                return
            try:
                response = pdu.decode(data)
            except ProtocolError as exc:
                self._malformed(exc)
                # A response we cannot read still tells us the status of the request.
                response = _BareResponse(command_id, status, sequence)
            fut.set_result(response)
            self._answered.set()
            return
        if command_id == CommandId.ENQUIRE_LINK:
            self.respond("enquire_link_resp", sequence)
            return
        if command_id == CommandId.UNBIND:
            self.peer_unbound = True
            self.respond("unbind_resp", sequence)
            log.warning("smpp_unbind_from_smsc", link=self.name)
            self.close(ConnectError("SMSC unbound"))
            return
        try:
            request = pdu.decode(data)
        except ProtocolError as exc:
            self._malformed(exc)
            return
        task = asyncio.create_task(self._on_request(self, request), name=f"smpp[{self.name}].rx")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _malformed(self, exc: ProtocolError) -> None:
        log.warning(
            "smpp_malformed_pdu",
            link=self.name,
            error=str(exc),
            command_id=f"0x{exc.command_id:08X}",
            sequence=exc.sequence,
        )
        if self._on_malformed is not None:
            self._on_malformed(exc)
        if exc.command_id & pdu.RESPONSE_BIT:
            return  # never answer a response, even a broken one
        self.respond("generic_nack", exc.sequence, exc.status)


def _answers(command_id: int, command: str) -> bool:
    """Whether a response with `command_id` answers a request named `command`."""
    if command_id == CommandId.GENERIC_NACK:
        return True
    return pdu.command_name(command_id) == f"{command}_resp"


class _BareResponse:
    """Header-only view of a response whose body smpplib could not decode."""

    def __init__(self, command_id: int, status: int, sequence: int) -> None:
        self.command = pdu.command_name(command_id)
        self.status = status
        self.sequence = sequence
        self.message_id = None
