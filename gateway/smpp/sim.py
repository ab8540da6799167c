"""A small SMSC for tests, the demo, benchmarks and agencies testing their integration.

It speaks enough SMPP 3.4 to stand in for a carrier, and it can misbehave on purpose:
scripted outcomes by destination, a TPS cap answered with ESME_RTHROTTLED, response and
message ids in different formats (hex in submit_sm_resp, decimal in receipts: the usual
carrier quirk), sessions dropped on command or a fixed time after each bind, responses
delayed (past the ESME's timeout, if asked), a muted mode that stops answering. It
counts what an ESME must get right: the largest window of unanswered submits it saw,
the largest number of submits in any one second, and submits by status.

Delivery receipts are kept until a receiver (or transceiver) of the same system_id
acknowledges them with deliver_sm_resp OK, as a carrier's SMSC does: a receipt whose
deliver_sm is refused or whose link drops is sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import itertools
import random
import time
from collections import Counter, deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from gateway.smpp import pdu
from gateway.smpp.errors import FramingError, ProtocolError
from gateway.smpp.pdu import CommandId, Status
from gateway.smpp.text import GSM7, UCS2, decode, encode

log = structlog.get_logger("gateway.smpp.sim")

OUTCOMES = frozenset(
    {
        "deliver",
        "reject",
        "undeliverable",
        "expired",
        "transient",
        "no_receipt",
        "no_response",
        "nack",
    }
)
ID_FORMATS = frozenset({"hex", "hex_padded", "decimal", "decimal_padded"})

_RECEIPT_STATES = {
    "deliver": ("DELIVRD", 2, "000"),
    "undeliverable": ("UNDELIV", 5, "001"),
    "expired": ("EXPIRED", 3, "000"),
}


@dataclass(frozen=True, slots=True)
class Rule:
    """Outcome for destinations matching `pattern` (shell-style, e.g. ``"8490000*"``).

    - ``deliver``: accepted, receipt DELIVRD (the default for unmatched numbers)
    - ``reject``: submit_sm_resp with `status` (default ESME_RINVDSTADR), no receipt
    - ``undeliverable`` / ``expired``: accepted, receipt UNDELIV / EXPIRED
    - ``transient``: the first `count` submits answered `status` (default ESME_RMSGQFUL),
      then delivered
    - ``no_receipt``: accepted, no receipt ever
    - ``no_response``: submit_sm never answered (the ESME sees a timeout)
    - ``nack``: submit_sm answered with generic_nack carrying `status` (0 unless given,
      as some SMSCs do)
    """

    pattern: str
    outcome: str
    status: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {self.outcome!r}; one of {sorted(OUTCOMES)}")


@dataclass(slots=True)
class SimConfig:
    host: str = "127.0.0.1"
    port: int = 0
    system_id: str = "motcua"
    password: str = "secret"
    receipt_delay: float = 0.05
    response_delay: float = 0.0
    response_id_format: str = "hex"
    receipt_id_format: str = "decimal"
    receipt_tlvs: bool = True
    tps: float = 0.0
    redelivery_delay: float = 0.5
    # Close every session this many seconds after it binds (None: never).
    bind_lifetime: float | None = None
    keep_records: bool = True
    rules: Sequence[Rule] = ()
    # The first message id it hands out (None: a random one). Small ids written in hex
    # are the collisions a carrier's counter produces: "A" and "10" both read as 10.
    first_id: int | None = None

    def __post_init__(self) -> None:
        for name in ("response_id_format", "receipt_id_format"):
            if getattr(self, name) not in ID_FORMATS:
                raise ValueError(f"{name} must be one of {sorted(ID_FORMATS)}")


@dataclass(frozen=True, slots=True)
class SubmitRecord:
    """One submit_sm as the SMSC saw it."""

    system_id: str
    source: str
    source_ton: int
    source_npi: int
    destination: str
    dest_ton: int
    dest_npi: int
    esm_class: int
    data_coding: int
    registered_delivery: int
    short_message: bytes
    validity_period: str
    status: int
    message_id: str
    at: float

    @property
    def body(self) -> bytes:
        """short_message without its UDH."""
        if self.esm_class & 0x40 and self.short_message:
            return self.short_message[1 + self.short_message[0] :]
        return self.short_message

    @property
    def text(self) -> str:
        return decode(self.data_coding, self.body)


@dataclass(slots=True)
class SimStats:
    binds: int = 0
    bind_failures: int = 0
    submits: int = 0
    submits_by_status: Counter[str] = field(default_factory=Counter)
    per_second: Counter[int] = field(default_factory=Counter)
    max_outstanding: int = 0
    max_rate: int = 0
    receipts_sent: int = 0
    receipts_acked: int = 0
    deliver_resp_status: Counter[str] = field(default_factory=Counter)
    enquire_links: int = 0
    unbinds: int = 0
    generic_nacks_sent: int = 0
    generic_nacks_received: int = 0
    dropped_sessions: int = 0
    responses: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "binds": self.binds,
            "bind_failures": self.bind_failures,
            "submits": self.submits,
            "submits_by_status": dict(self.submits_by_status),
            "max_outstanding": self.max_outstanding,
            "max_rate_per_second": self.max_rate,
            "receipts_sent": self.receipts_sent,
            "receipts_acked": self.receipts_acked,
            "deliver_resp_status": dict(self.deliver_resp_status),
            "enquire_links": self.enquire_links,
            "unbinds": self.unbinds,
            "generic_nacks_sent": self.generic_nacks_sent,
            "generic_nacks_received": self.generic_nacks_received,
            "dropped_sessions": self.dropped_sessions,
            "responses": dict(self.responses),
        }


class _Conn:
    """One ESME connection as the SMSC sees it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.mode: str | None = None  # transmitter / receiver / transceiver once bound
        self.system_id = ""
        self.outstanding = 0
        self.pending: dict[int, asyncio.Future[int]] = {}
        self.sequence = itertools.count(1)
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


class SmscSimulator:
    """`async with SmscSimulator(SimConfig()) as smsc:` listens on `smsc.port`."""

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        self.stats = SimStats()
        self.records: list[SubmitRecord] = []
        self.mute = False
        self._conns: set[_Conn] = set()
        self._server: asyncio.Server | None = None
        first = self.config.first_id
        self._ids = itertools.count(
            random.randint(0x10000000, 0x7FFFFFFF) if first is None else first
        )
        self._transient_left: dict[tuple[str, str], int] = {}
        self._arrivals: deque[float] = deque()
        self._accepted: deque[float] = deque()
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
                conn.write(pdu.encode_header_only(CommandId.UNBIND, next(conn.sequence)))

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
                conn.write(pdu.encode_header_only(CommandId.ENQUIRE_LINK, next(conn.sequence)))

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
        pdus = _mo_pdus(text, data_coding, max_part, sar, ref16, ref)
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
        conn = _Conn(reader, writer)
        self._conns.add(conn)
        try:
            while not conn.closed:
                head = await reader.readexactly(4)
                length = int.from_bytes(head, "big")
                pdu.check_length(length)
                frame = head + await reader.readexactly(length - 4)
                if not self.mute:
                    self._handle(conn, frame)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        except FramingError as exc:
            log.warning("smsc_sim_framing_error", error=str(exc))
        finally:
            conn.close()
            self._conns.discard(conn)
            self._update_receiver_ready()

    def _handle(self, conn: _Conn, frame: bytes) -> None:
        _length, command_id, status, sequence = pdu.header(frame)
        if command_id & pdu.RESPONSE_BIT:
            self.stats.responses[pdu.command_name(command_id)] += 1
            if command_id == CommandId.GENERIC_NACK:
                self.stats.generic_nacks_received += 1
            fut = conn.pending.pop(sequence, None)
            if fut is not None and not fut.done():
                fut.set_result(status)
            return
        try:
            request = pdu.decode(frame)
        except ProtocolError as exc:
            self.stats.generic_nacks_sent += 1
            conn.write(pdu.encode_header_only(CommandId.GENERIC_NACK, sequence, exc.status))
            return
        command = request.command
        if command.startswith("bind_"):
            self._bind(conn, request)
        elif conn.mode is None:
            conn.write(
                pdu.encode_header_only(
                    command_id | pdu.RESPONSE_BIT, sequence, Status.ESME_RINVBNDSTS
                )
            )
        elif command == "enquire_link":
            self.stats.enquire_links += 1
            conn.write(pdu.encode_header_only(CommandId.ENQUIRE_LINK_RESP, sequence))
        elif command == "unbind":
            self.stats.unbinds += 1
            conn.write(pdu.encode_header_only(CommandId.UNBIND_RESP, sequence))
            conn.mode = None
            self._update_receiver_ready()
        elif command == "submit_sm":
            self._submit(conn, request)
        else:
            self.stats.generic_nacks_sent += 1
            conn.write(
                pdu.encode_header_only(CommandId.GENERIC_NACK, sequence, Status.ESME_RINVCMDID)
            )

    def _bind(self, conn: _Conn, request: Any) -> None:
        system_id = pdu.text_field(request.system_id)
        password = pdu.text_field(request.password)
        resp = request.command + "_resp"
        status = Status.ESME_ROK
        if conn.mode is not None:
            status = Status.ESME_RALYBND
        elif system_id != self.config.system_id:
            status = Status.ESME_RINVSYSID
        elif password != self.config.password:
            status = Status.ESME_RINVPASWD
        if status != Status.ESME_ROK:
            self.stats.bind_failures += 1
            conn.write(pdu.encode(resp, request.sequence, status, system_id="SIMSMSC"))
            return
        conn.mode = request.command.removeprefix("bind_")
        conn.system_id = system_id
        self.stats.binds += 1
        conn.write(pdu.encode(resp, request.sequence, system_id="SIMSMSC"))
        self._update_receiver_ready()
        if self.config.bind_lifetime is not None:
            self._spawn(self._drop_later(conn, self.config.bind_lifetime))

    async def _drop_later(self, conn: _Conn, after: float) -> None:
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

    def _submit(self, conn: _Conn, request: Any) -> None:
        if conn.mode == "receiver":
            conn.write(pdu.encode("submit_sm_resp", request.sequence, Status.ESME_RINVBNDSTS))
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
        rule = self._rule_for(destination)
        status, receipt = self._decide(conn, destination, rule, now)
        nack = rule is not None and rule.outcome == "nack"
        message_id = ""
        if status == Status.ESME_ROK and not nack:
            n = next(self._ids)
            message_id = _format_id(n, self.config.response_id_format)
            if receipt and (request.registered_delivery or 0) & 0x01:
                self._spawn(self._send_receipt(conn.system_id, n, request, receipt))
        self.stats.submits_by_status[pdu.status_name(status)] += 1
        if self.config.keep_records:
            self.records.append(_record(conn, request, status, message_id, now))
        if rule is not None and rule.outcome == "no_response" and status == Status.ESME_ROK:
            return  # outstanding never decreases: the ESME must time out
        if nack:
            conn.outstanding -= 1
            self.stats.generic_nacks_sent += 1
            conn.write(
                pdu.encode_header_only(CommandId.GENERIC_NACK, request.sequence, rule.status)
            )
            return
        if self.config.response_delay > 0:
            self._spawn(self._respond_later(conn, request.sequence, status, message_id))
        else:
            self._respond(conn, request.sequence, status, message_id)

    def _decide(
        self, conn: _Conn, destination: str, rule: Rule | None, now: float
    ) -> tuple[int, str | None]:
        """(submit_sm_resp status, receipt outcome or None)."""
        tps = self.config.tps
        if tps > 0:
            while self._accepted and self._accepted[0] <= now - 1.0:
                self._accepted.popleft()
            if len(self._accepted) >= tps:
                return Status.ESME_RTHROTTLED, None
            self._accepted.append(now)
        if rule is None:
            return Status.ESME_ROK, "deliver"
        outcome = rule.outcome
        if outcome == "reject":
            return rule.status or Status.ESME_RINVDSTADR, None
        if outcome == "transient":
            key = (rule.pattern, destination)
            left = self._transient_left.setdefault(key, rule.count)
            if left > 0:
                self._transient_left[key] = left - 1
                return rule.status or Status.ESME_RMSGQFUL, None
            return Status.ESME_ROK, "deliver"
        if outcome in ("no_receipt", "no_response"):
            return Status.ESME_ROK, None
        if outcome == "nack":
            return rule.status, None
        return Status.ESME_ROK, outcome

    def _rule_for(self, destination: str) -> Rule | None:
        for rule in self.config.rules:
            if fnmatch.fnmatchcase(destination, rule.pattern):
                return rule
        return None

    def _respond(self, conn: _Conn, sequence: int, status: int, message_id: str) -> None:
        conn.outstanding -= 1
        conn.write(pdu.encode("submit_sm_resp", sequence, status, message_id=message_id))

    async def _respond_later(
        self, conn: _Conn, sequence: int, status: int, message_id: str
    ) -> None:
        await asyncio.sleep(self.config.response_delay)
        self._respond(conn, sequence, status, message_id)

    # -- deliver_sm (receipts and MO) ------------------------------------------------

    async def _send_receipt(self, system_id: str, n: int, request: Any, outcome: str) -> None:
        await asyncio.sleep(self.config.receipt_delay)
        stat, state, err = _RECEIPT_STATES[outcome]
        rid = _format_id(n, self.config.receipt_id_format)
        stamp = datetime.now().strftime("%y%m%d%H%M")
        sample = decode(request.data_coding or 0, bytes(request.short_message or b""))[:20]
        sample = sample.encode("ascii", "replace").decode()
        body = (
            f"id:{rid} sub:001 dlvrd:{'001' if stat == 'DELIVRD' else '000'} "
            f"submit date:{stamp} done date:{stamp} stat:{stat} err:{err} text:{sample}"
        )
        fields: dict[str, Any] = {
            "source_addr_ton": 1,
            "source_addr_npi": 1,
            "source_addr": pdu.text_field(request.destination_addr),
            "dest_addr_ton": request.source_addr_ton or 0,
            "dest_addr_npi": request.source_addr_npi or 0,
            "destination_addr": pdu.text_field(request.source_addr),
            "esm_class": 0x04,
            "data_coding": 0,
            "short_message": body.encode("ascii"),
        }
        if self.config.receipt_tlvs:
            fields["receipted_message_id"] = rid
            fields["message_state"] = state
        while True:
            status = await self._deliver(fields, timeout=10.0, system_id=system_id)
            if status == Status.ESME_ROK:
                self.stats.receipts_acked += 1
                return
            await asyncio.sleep(self.config.redelivery_delay)

    async def _deliver(
        self, fields: dict[str, Any], *, timeout: float, system_id: str | None = None
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
            conn = await self._receiver(system_id)
        seq = next(conn.sequence)
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        conn.pending[seq] = fut
        conn.write(pdu.encode("deliver_sm", seq, **fields))
        if fields.get("esm_class", 0) & 0x04:
            self.stats.receipts_sent += 1
        try:
            async with asyncio.timeout(timeout):
                status = await fut
        except (TimeoutError, ConnectionError):
            status = -1
        finally:
            conn.pending.pop(seq, None)
        self.stats.deliver_resp_status[pdu.status_name(status) if status >= 0 else "none"] += 1
        return status

    async def _receiver(self, system_id: str | None) -> _Conn:
        while True:
            conns = [c for c in self._conns if c.receives and (system_id in (None, c.system_id))]
            if conns:
                return random.choice(conns)
            self._receiver_ready.clear()
            await self._receiver_ready.wait()


def _format_id(n: int, fmt: str) -> str:
    if fmt == "hex":
        return f"{n:X}"
    if fmt == "hex_padded":
        return f"{n:016X}"
    if fmt == "decimal_padded":
        return f"{n:020d}"
    return str(n)


def _record(conn: _Conn, request: Any, status: int, message_id: str, at: float) -> SubmitRecord:
    return SubmitRecord(
        system_id=conn.system_id,
        source=pdu.text_field(request.source_addr),
        source_ton=request.source_addr_ton or 0,
        source_npi=request.source_addr_npi or 0,
        destination=pdu.text_field(request.destination_addr),
        dest_ton=request.dest_addr_ton or 0,
        dest_npi=request.dest_addr_npi or 0,
        esm_class=request.esm_class or 0,
        data_coding=request.data_coding or 0,
        registered_delivery=request.registered_delivery or 0,
        short_message=bytes(request.short_message or b""),
        validity_period=pdu.text_field(request.validity_period),
        status=status,
        message_id=message_id,
        at=at,
    )


def _mo_pdus(
    text: str, data_coding: int | None, max_part: int | None, sar: bool, ref16: bool, ref: int
) -> list[dict[str, Any]]:
    """The deliver_sm fields for an MO, split into parts when long or asked to."""
    if max_part is None:
        encoded = encode(text, reference=ref, ref16=ref16)
        coding = encoded.data_coding if data_coding is None else data_coding
        bodies = [p[1 + p[0] :] if encoded.udhi else p for p in encoded.parts]
    else:
        coding = data_coding if data_coding is not None else encode(text).data_coding
        chunks = [text[i : i + max_part] for i in range(0, len(text), max_part)] or [""]
        bodies = [_single(chunk, coding) for chunk in chunks]
    total = len(bodies)
    out: list[dict[str, Any]] = []
    for seq, body in enumerate(bodies, start=1):
        fields: dict[str, Any] = {"data_coding": coding, "esm_class": 0}
        if total == 1:
            fields["short_message"] = body
        elif sar:
            fields.update(
                short_message=body,
                sar_msg_ref_num=ref & 0xFFFF,
                sar_total_segments=total,
                sar_segment_seqnum=seq,
            )
        else:
            if ref16:
                udh = bytes([6, 8, 4, (ref >> 8) & 0xFF, ref & 0xFF, total, seq])
            else:
                udh = bytes([5, 0, 3, ref & 0xFF, total, seq])
            fields.update(short_message=udh + body, esm_class=0x40)
        out.append(fields)
    return out


def _single(text: str, coding: int) -> bytes:
    if coding == UCS2:
        return text.encode("utf-16-be")
    if coding == GSM7:
        return encode(text).parts[0] if text else b""
    return text.encode("latin-1", "replace")
