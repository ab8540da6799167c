"""The simulator's server: ESME connections, binds, submit_sm answers, deliver_sm out.

Frames are read and written with the ESME's own code (`gateway.smpp.framing`); what
each submit gets is `Outcomes`, what a receipt and an MO look like `receipts` and `mo`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
from collections import deque
from collections.abc import Collection
from typing import Any

import structlog

from gateway.smpp import pdu
from gateway.smpp.codes import (
    ESM_DELIVERY_RECEIPT,
    RESPONSE_BIT,
    CommandId,
    Status,
    command_name,
    status_name,
)
from gateway.smpp.errors import FramingError, ProtocolError
from gateway.smpp.framing import frame, read_frame, response_header
from gateway.smpp.sim.config import SimConfig
from gateway.smpp.sim.connection import Conn
from gateway.smpp.sim.mo import mo_pdus
from gateway.smpp.sim.outcomes import Outcomes
from gateway.smpp.sim.receipts import format_id, receipt_fields
from gateway.smpp.sim.records import SimStats, SubmitRecord, record_of

log = structlog.get_logger("gateway.smpp.sim")


class SmscSimulator:
    """`async with SmscSimulator(SimConfig()) as smsc:` listens on `smsc.port`."""

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        self.stats = SimStats()
        self.records: list[SubmitRecord] = []
        self.mute = False
        # A status every bind is refused with while set (a carrier turning the account
        # away: ESME_RBINDFAIL during maintenance); None accepts binds as configured.
        self.refuse_binds: int | None = None
        self._conns: set[Conn] = set()
        self._server: asyncio.Server | None = None
        first = self.config.first_id
        self._ids = itertools.count(
            random.randint(0x10000000, 0x7FFFFFFF) if first is None else first
        )
        self._outcomes = Outcomes()
        self._arrivals: deque[float] = deque()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._receiver_ready = asyncio.Event()
        self.port = 0

    async def __aenter__(self) -> SmscSimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.config.host, self.config.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("smsc_sim_listening", host=self.config.host, port=self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in list(self._conns):
            conn.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    # -- commands from the test, the demo or the control port ------------------------

    @property
    def sessions(self) -> int:
        return sum(1 for c in self._conns if c.mode is not None and not c.closed)

    def drop_all(self) -> int:
        """Close every ESME connection at once (a carrier-side restart)."""
        n = 0
        for conn in list(self._conns):
            if not conn.closed:
                conn.close()
                n += 1
        self.stats.dropped_sessions += n
        return n

    async def unbind_all(self) -> None:
        """SMSC-initiated unbind on every bound session."""
        for conn in list(self._conns):
            if conn.mode is not None and not conn.closed:
                conn.write(frame("unbind", conn.sequence.next()))

    def send_raw(self, frame: bytes) -> int:
        """Write arbitrary bytes to every bound session (malformed-PDU tests)."""
        n = 0
        for conn in list(self._conns):
            if conn.mode is not None and not conn.closed:
                conn.write(frame)
                n += 1
        return n

    async def enquire_all(self) -> None:
        for conn in list(self._conns):
            if conn.mode is not None and not conn.closed:
                conn.write(frame("enquire_link", conn.sequence.next()))

    async def inject_mo(
        self,
        source: str,
        destination: str,
        text: str,
        *,
        data_coding: int | None = None,
        max_part: int | None = None,
        reverse: bool = False,
        sar: bool = False,
        ref16: bool = False,
        reference: int | None = None,
        drop_parts: Collection[int] = (),
        timeout: float = 10.0,
    ) -> list[int]:
        """Send an MO as deliver_sm (parts if long) and return each deliver_sm_resp status.

        `max_part` forces a split into parts of that many characters, so that short
        texts can be sent as multi-part MOs; `reverse` sends the parts last first;
        `drop_parts` (1-based) are never sent, as when a carrier loses a part.
        """
        ref = random.randint(0, 0xFFFF if ref16 else 0xFF) if reference is None else reference
        pdus = mo_pdus(text, data_coding, max_part, sar, ref16, ref)
        pdus = [p for n, p in enumerate(pdus, start=1) if n not in drop_parts]
        if reverse:
            pdus.reverse()
        statuses = []
        for fields in pdus:
            fields.update(
                source_addr_ton=1,
                source_addr_npi=1,
                source_addr=source,
                dest_addr_ton=0,
                dest_addr_npi=1,
                destination_addr=destination,
            )
            statuses.append(await self._deliver(fields, timeout=timeout))
        return statuses

    # -- serving ---------------------------------------------------------------------

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Conn(reader, writer)
        self._conns.add(conn)
        try:
            while not conn.closed:
                data = await read_frame(reader)
                if not self.mute:
                    self._handle(conn, data)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        except FramingError as exc:
            log.warning("smsc_sim_framing_error", error=str(exc))
        finally:
            conn.close()
            self._conns.discard(conn)
            self._update_receiver_ready()

    def _handle(self, conn: Conn, data: bytes) -> None:
        _length, command_id, status, sequence = pdu.header(data)
        if command_id & RESPONSE_BIT:
            self.stats.responses[command_name(command_id)] += 1
            if command_id == CommandId.GENERIC_NACK:
                self.stats.generic_nacks_received += 1
            fut = conn.pending.pop(sequence, None)
            if fut is not None and not fut.done():
                fut.set_result(status)
            return
        try:
            request = pdu.decode(data)
        except ProtocolError as exc:
            self.stats.generic_nacks_sent += 1
            conn.write(frame("generic_nack", sequence, exc.status))
            return
        command = request.command
        if command.startswith("bind_"):
            self._bind(conn, request)
        elif conn.mode is None:
            conn.write(response_header(command_id, sequence, Status.ESME_RINVBNDSTS))
        elif command == "enquire_link":
            self.stats.enquire_links += 1
            conn.write(frame("enquire_link_resp", sequence))
        elif command == "unbind":
            self.stats.unbinds += 1
            conn.write(frame("unbind_resp", sequence))
            conn.mode = None
            self._update_receiver_ready()
        elif command == "submit_sm":
            self._submit(conn, request)
        else:
            self.stats.generic_nacks_sent += 1
            conn.write(frame("generic_nack", sequence, Status.ESME_RINVCMDID))

    def _bind(self, conn: Conn, request: Any) -> None:
        system_id = pdu.text_field(request.system_id)
        password = pdu.text_field(request.password)
        resp = request.command + "_resp"
        status = Status.ESME_ROK
        if conn.mode is not None:
            status = Status.ESME_RALYBND
        elif self.refuse_binds is not None:
            status = self.refuse_binds
        elif system_id != self.config.system_id:
            status = Status.ESME_RINVSYSID
        elif password != self.config.password:
            status = Status.ESME_RINVPASWD
        if status != Status.ESME_ROK:
            self.stats.bind_failures += 1
            conn.write(frame(resp, request.sequence, status, system_id="SIMSMSC"))
            return
        conn.mode = request.command.removeprefix("bind_")
        conn.system_id = system_id
        conn.system_type = pdu.text_field(request.system_type)
        self.stats.binds += 1
        conn.write(frame(resp, request.sequence, system_id="SIMSMSC"))
        self._update_receiver_ready()
        if self.config.bind_lifetime is not None:
            self._spawn(self._drop_later(conn, self.config.bind_lifetime))

    async def _drop_later(self, conn: Conn, after: float) -> None:
        await asyncio.sleep(after)
        if not conn.closed:
            conn.close()
            self.stats.dropped_sessions += 1

    def _update_receiver_ready(self) -> None:
        if any(c.receives for c in self._conns):
            self._receiver_ready.set()
        else:
            self._receiver_ready.clear()

    # -- submit_sm -------------------------------------------------------------------

    def _submit(self, conn: Conn, request: Any) -> None:
        if conn.mode == "receiver":
            conn.write(frame("submit_sm_resp", request.sequence, Status.ESME_RINVBNDSTS))
            return
        now = time.monotonic()
        self.stats.submits += 1
        self.stats.per_second[int(time.time())] += 1
        self._arrivals.append(now)
        while self._arrivals and self._arrivals[0] <= now - 1.0:
            self._arrivals.popleft()
        self.stats.max_rate = max(self.stats.max_rate, len(self._arrivals))
        conn.outstanding += 1
        self.stats.max_outstanding = max(self.stats.max_outstanding, conn.outstanding)

        destination = pdu.text_field(request.destination_addr)
        rule = self._outcomes.rule_for(self.config.rules, destination)
        status, receipt = self._outcomes.decide(self.config, destination, rule, now)
        nack = rule is not None and rule.outcome == "nack"
        message_id = ""
        if status == Status.ESME_ROK and not nack:
            n = next(self._ids)
            message_id = format_id(n, self.config.response_id_format)
            if receipt and (request.registered_delivery or 0) & 0x01:
                avoid = conn if self.config.receipts_elsewhere else None
                self._spawn(self._send_receipt(conn.system_id, n, request, receipt, avoid))
        self.stats.submits_by_status[status_name(status)] += 1
        if self.config.keep_records:
            self.records.append(record_of(conn, request, status, message_id, now))
        if rule is not None and rule.outcome == "no_response" and status == Status.ESME_ROK:
            return  # outstanding never decreases: the ESME must time out
        if nack:
            conn.outstanding -= 1
            self.stats.generic_nacks_sent += 1
            conn.write(frame("generic_nack", request.sequence, rule.status))
            return
        if self.config.response_delay > 0:
            self._spawn(self._respond_later(conn, request.sequence, status, message_id))
        else:
            self._respond(conn, request.sequence, status, message_id)

    def _respond(self, conn: Conn, sequence: int, status: int, message_id: str) -> None:
        conn.outstanding -= 1
        conn.write(frame("submit_sm_resp", sequence, status, message_id=message_id))

    async def _respond_later(self, conn: Conn, sequence: int, status: int, message_id: str) -> None:
        await asyncio.sleep(self.config.response_delay)
        self._respond(conn, sequence, status, message_id)

    # -- deliver_sm (receipts and MO) ------------------------------------------------

    async def _send_receipt(
        self, system_id: str, n: int, request: Any, outcome: str, avoid: Conn | None = None
    ) -> None:
        await asyncio.sleep(self.config.receipt_delay)
        rid = format_id(n, self.config.receipt_id_format)
        fields = receipt_fields(request, rid, outcome, tlvs=self.config.receipt_tlvs)
        while True:
            status = await self._deliver(fields, timeout=10.0, system_id=system_id, avoid=avoid)
            if status == Status.ESME_ROK:
                self.stats.receipts_acked += 1
                return
            await asyncio.sleep(self.config.redelivery_delay)

    async def _deliver(
        self,
        fields: dict[str, Any],
        *,
        timeout: float,
        system_id: str | None = None,
        avoid: Conn | None = None,
    ) -> int:
        """Send one deliver_sm to a receiving session; its resp status, or -1 if none came.

        An MO (no `system_id`) waits at most `timeout` for a receiver and then raises
        `LookupError`; a receipt waits for its ESME as long as it takes.
        """
        if system_id is None:
            try:
                # asyncio.timeout, not wait_for: 3.11's wait_for can lose a cancellation.
                async with asyncio.timeout(timeout):
                    conn = await self._receiver(None)
            except TimeoutError:
                raise LookupError("no receiver or transceiver is bound") from None
        else:
            conn = await self._receiver(system_id, avoid)
        self.stats.receipts_elsewhere += int(avoid is not None and conn is not avoid)
        seq = conn.sequence.next()
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        conn.pending[seq] = fut
        conn.write(frame("deliver_sm", seq, **fields))
        if fields.get("esm_class", 0) & ESM_DELIVERY_RECEIPT:
            self.stats.receipts_sent += 1
        try:
            async with asyncio.timeout(timeout):
                status = await fut
        except (TimeoutError, ConnectionError):
            status = -1
        finally:
            conn.pending.pop(seq, None)
        self.stats.deliver_resp_status[status_name(status) if status >= 0 else "none"] += 1
        return status

    async def _receiver(self, system_id: str | None, avoid: Conn | None = None) -> Conn:
        while True:
            conns = [c for c in self._conns if c.receives and (system_id in (None, c.system_id))]
            others = [c for c in conns if c is not avoid]
            if others or conns:
                return random.choice(others or conns)
            self._receiver_ready.clear()
            await self._receiver_ready.wait()
