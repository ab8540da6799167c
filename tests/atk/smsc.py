"""A scriptable SMSC for attack tests: each submit_sm goes to `policy(smsc, conn, pdu)`."""
from __future__ import annotations

import asyncio
import itertools
from typing import Any

from gateway.smpp import pdu as P
from gateway.smpp.pdu import CommandId


class Conn:
    def __init__(self, smsc, reader, writer):
        self.smsc, self.reader, self.writer = smsc, reader, writer
        self.seq = itertools.count(1)
        self.closed = False

    def send(self, data: bytes) -> None:
        if not self.closed and not self.writer.is_closing():
            self.writer.write(data)

    def resp(self, seq: int, status: int = 0, message_id: str | None = "x") -> None:
        if message_id is None:
            self.send(P.encode("submit_sm_resp", seq, status))
        else:
            self.send(P.encode("submit_sm_resp", seq, status, message_id=message_id))

    def nack(self, seq: int, status: int = 0) -> None:
        self.send(P.encode_header_only(CommandId.GENERIC_NACK, seq, status))

    def receipt(self, mid: str, stat: str = "DELIVRD", dest: str = "84901234567") -> None:
        text = (f"id:{mid} sub:001 dlvrd:001 submit date:2601011000 done date:2601011000 "
                f"stat:{stat} err:000 text:x").encode()
        self.send(P.encode("deliver_sm", next(self.seq) + 100000, 0, source_addr=dest,
                           destination_addr="UBND", esm_class=0x04, short_message=text))

    def close(self) -> None:
        self.closed = True
        self.writer.close()


class Smsc:
    def __init__(self, policy, *, bind_policy=None):
        self.policy = policy
        self.bind_policy = bind_policy
        self.submits: list[tuple[Conn, Any]] = []
        self.accepted: list[tuple[Any, str]] = []  # (pdu, message_id) answered status 0
        self.binds = 0
        self.bind_times: list[float] = []
        self.conns: list[Conn] = []
        self.receipts_acked: list[int] = []
        self._ids = itertools.count(1)
        self.server = None
        self.port = 0

    id_format = "{:08X}"  # a hex counter, as many carriers number messages

    def next_id(self) -> str:
        return self.id_format.format(next(self._ids))

    async def __aenter__(self):
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc):
        for c in self.conns:
            c.close()
        self.server.close()

    async def _serve(self, reader, writer):
        conn = Conn(self, reader, writer)
        self.conns.append(conn)
        try:
            while True:
                head = await reader.readexactly(4)
                n = int.from_bytes(head, "big")
                frame = head + await reader.readexactly(n - 4)
                _l, cid, _st, seq = P.header(frame)
                if cid in (CommandId.BIND_TRANSCEIVER, CommandId.BIND_TRANSMITTER, CommandId.BIND_RECEIVER):
                    self.binds += 1
                    self.bind_times.append(asyncio.get_running_loop().time())
                    name = P.command_name(cid) + "_resp"
                    conn.send(P.encode(name, seq, 0, system_id="SIM"))
                    if self.bind_policy:
                        r = self.bind_policy(self, conn)
                        if asyncio.iscoroutine(r):
                            await r
                elif cid == CommandId.ENQUIRE_LINK:
                    conn.send(P.encode_header_only(CommandId.ENQUIRE_LINK_RESP, seq))
                elif cid == CommandId.UNBIND:
                    conn.send(P.encode_header_only(CommandId.UNBIND_RESP, seq))
                    conn.close()
                    return
                elif cid == CommandId.SUBMIT_SM:
                    p = P.decode(frame)
                    self.submits.append((conn, p))
                    r = self.policy(self, conn, p)
                    if asyncio.iscoroutine(r):
                        asyncio.ensure_future(r)
                elif cid == CommandId.DELIVER_SM_RESP:
                    self.receipts_acked.append(seq)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            conn.closed = True
            writer.close()

    def accept(self, conn, p, status=0, mid=None, later=0.0):
        """Answer p (after `later` s); records acceptance."""
        mid = mid or self.next_id()

        async def go():
            if later:
                await asyncio.sleep(later)
            if conn.closed:
                return
            conn.resp(p.sequence, status, mid)
            if status == 0:
                self.accepted.append((p, mid))

        return go()
