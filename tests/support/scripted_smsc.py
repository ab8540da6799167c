"""A scriptable SMSC over real TCP, for carriers that are slow or sloppy on purpose.

The bundled simulator (gateway.smpp.sim) behaves like a well-run carrier with knobs; this
one hands every submit_sm to a test's `policy(smsc, conn, pdu)`, which answers however the
test means a bad carrier to (late, twice, with the wrong command, never), and may return a
coroutine to answer later. Binds are answered at once unless `bind_answer` takes them over;
`bind_policy(smsc, conn)` runs after each bind (to drop the connection, say).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

from gateway.smpp import pdu as P
from gateway.smpp.pdu import CommandId

_BINDS = (CommandId.BIND_TRANSCEIVER, CommandId.BIND_TRANSMITTER, CommandId.BIND_RECEIVER)

Policy = Callable[["Smsc", "Conn", Any], Awaitable[None] | None]
BindPolicy = Callable[["Smsc", "Conn"], Awaitable[None] | None]
# (smsc, conn, bind command name, sequence): answers the bind itself, when it likes.
BindAnswer = Callable[["Smsc", "Conn", str, int], Awaitable[None] | None]


class Conn:
    """One ESME connection, as the SMSC sees it."""

    def __init__(self, smsc: Smsc, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.smsc, self.reader, self.writer = smsc, reader, writer
        self.seq = itertools.count(1)
        self.closed = False
        self.bound_as = ""
        self.unbound = asyncio.Event()

    def send(self, data: bytes) -> None:
        if not self.closed and not self.writer.is_closing():
            self.writer.write(data)

    def resp(self, seq: int, status: int = 0, message_id: str | None = "x") -> None:
        """A submit_sm_resp; `message_id=None` leaves the field out."""
        if message_id is None:
            self.send(P.encode("submit_sm_resp", seq, status))
        else:
            self.send(P.encode("submit_sm_resp", seq, status, message_id=message_id))

    def bind_resp(self, command: str, seq: int, status: int = 0) -> None:
        self.send(P.encode(f"{command}_resp", seq, status, system_id="SIM"))

    def nack(self, seq: int, status: int = 0) -> None:
        self.send(P.encode_header_only(CommandId.GENERIC_NACK, seq, status))

    def receipt(self, mid: str, stat: str = "DELIVRD", dest: str = "84901234567") -> None:
        text = (
            f"id:{mid} sub:001 dlvrd:001 submit date:2601011000 done date:2601011000 "
            f"stat:{stat} err:000 text:x"
        ).encode()
        self.send(
            P.encode(
                "deliver_sm",
                next(self.seq) + 100000,
                0,
                source_addr=dest,
                destination_addr="UBND",
                esm_class=0x04,
                short_message=text,
            )
        )

    def close(self) -> None:
        self.closed = True
        self.writer.close()


class Smsc:
    """`async with Smsc(policy) as smsc:` listens on `smsc.port` until the block ends."""

    id_format = "{:08X}"  # a hex counter, as many carriers number messages

    def __init__(
        self,
        policy: Policy,
        *,
        bind_policy: BindPolicy | None = None,
        bind_answer: BindAnswer | None = None,
    ) -> None:
        self.policy = policy
        self.bind_policy = bind_policy
        self.bind_answer = bind_answer
        self.submits: list[tuple[Conn, Any]] = []
        self.accepted: list[tuple[Any, str]] = []  # (pdu, message_id) answered status 0
        self.binds = 0
        self.bind_times: list[float] = []
        self.conns: list[Conn] = []
        self.receipts_acked: list[int] = []
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Future[Any]] = set()
        self.server: asyncio.Server | None = None
        self.port = 0

    def next_id(self) -> str:
        return self.id_format.format(next(self._ids))

    async def __aenter__(self) -> Smsc:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for c in self.conns:
            c.close()
        assert self.server is not None
        self.server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _later(self, result: Awaitable[None] | None) -> None:
        if asyncio.iscoroutine(result):
            task = asyncio.ensure_future(result)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Conn(self, reader, writer)
        self.conns.append(conn)
        try:
            while True:
                head = await reader.readexactly(4)
                frame = head + await reader.readexactly(int.from_bytes(head, "big") - 4)
                _l, cid, _st, seq = P.header(frame)
                if cid in _BINDS:
                    self.binds += 1
                    self.bind_times.append(asyncio.get_running_loop().time())
                    conn.bound_as = P.command_name(cid)
                    if self.bind_answer is not None:
                        self._later(self.bind_answer(self, conn, conn.bound_as, seq))
                    else:
                        conn.bind_resp(conn.bound_as, seq)
                    if self.bind_policy:
                        r = self.bind_policy(self, conn)
                        if asyncio.iscoroutine(r):
                            await r
                elif cid == CommandId.ENQUIRE_LINK:
                    conn.send(P.encode_header_only(CommandId.ENQUIRE_LINK_RESP, seq))
                elif cid == CommandId.UNBIND:
                    conn.unbound.set()
                    conn.send(P.encode_header_only(CommandId.UNBIND_RESP, seq))
                    conn.close()
                    return
                elif cid == CommandId.SUBMIT_SM:
                    p = P.decode(frame)
                    self.submits.append((conn, p))
                    self._later(self.policy(self, conn, p))
                elif cid == CommandId.DELIVER_SM_RESP:
                    self.receipts_acked.append(seq)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            conn.closed = True
            writer.close()

    def accept(
        self, conn: Conn, p: Any, status: int = 0, mid: str | None = None, later: float = 0.0
    ) -> Awaitable[None]:
        """Answer `p` (after `later` s) unless its connection closed first; an answer
        of status 0 is recorded in `accepted`."""
        mid = mid or self.next_id()

        async def go() -> None:
            if later:
                await asyncio.sleep(later)
            if conn.closed:
                return
            conn.resp(p.sequence, status, mid)
            if status == 0:
                self.accepted.append((p, mid))

        return go()
