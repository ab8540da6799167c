"""deliver_sm / data_sm from the SMSC → a delivery `Receipt` or a citizen's `Mo`.

The SMSC uses the same PDU for both. A receipt is recognised by the esm_class message
type (SMSC delivery receipt, SME acknowledgement, intermediate notification) or by the
receipt TLVs, because some carriers set only one of the two. Everything else is an MO;
long MOs arrive in parts (UDH with 8- or 16-bit reference, or SAR TLVs), in any order,
and are put back together here before anyone sees them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog

from gateway.smpp.codes import ESM_DELIVERY_RECEIPT, ESM_UDHI, Status
from gateway.smpp.errors import ProtocolError
from gateway.smpp.link import Link
from gateway.smpp.model import SessionStats
from gateway.smpp.pdu import text_field
from gateway.smpp.reassembly import Assembled, Fragment, Reassembler
from gateway.smpp.receipt import Receipt, parse_receipt
from gateway.smpp.text import decode, split_udh

# esm_class bits 2-5 (mask 0x3C): 0x04 SMSC delivery receipt, 0x08 SME delivery ack,
# 0x10 SME manual/user ack, 0x20 intermediate delivery notification.
_ESM_TYPE_MASK = 0x3C
_RECEIPT_TYPES = frozenset({ESM_DELIVERY_RECEIPT, 0x08, 0x20})


@dataclass(frozen=True, slots=True)
class Mo:
    """A message a citizen sent to one of our shortcodes, whole (or as whole as it got)."""

    source: str
    destination: str
    text: str
    complete: bool = True
    parts: int = 1
    link: str | None = None  # the SMSC link it came in on (set by its `Account`)


Inbound = Mo | Receipt
DeliverHandler = Callable[[Inbound], Awaitable[None]]

log = structlog.get_logger("gateway.smpp.session")


def is_receipt(request: Any) -> bool:
    esm = request.esm_class or 0
    if (esm & _ESM_TYPE_MASK) in _RECEIPT_TYPES:
        return True
    return bool(
        getattr(request, "receipted_message_id", None)
        or getattr(request, "message_state", None) is not None
    )


class InboundDecoder:
    """Turns one deliver_sm/data_sm into what it means; keeps the parts of long MOs."""

    def __init__(self, reassembler: Reassembler) -> None:
        self._parts = reassembler

    def decode(self, request: Any) -> Inbound | None:
        """The receipt or MO this PDU carries; None while a long MO still misses parts.

        A PDU that claims to be a receipt but yields no id and no state is handled as
        an MO: a citizen's text is never thrown away for looking odd.
        """
        body = _payload(request)
        if is_receipt(request):
            receipt = parse_receipt(
                body,
                receipted_message_id=getattr(request, "receipted_message_id", None),
                message_state=getattr(request, "message_state", None),
                network_error_code=getattr(request, "network_error_code", None),
            )
            if receipt is not None:
                return receipt
        source = text_field(request.source_addr)
        destination = text_field(request.destination_addr)
        data_coding = request.data_coding or 0
        concat = None
        if (request.esm_class or 0) & ESM_UDHI:
            concat, body = split_udh(body)
        text = decode(data_coding, body)
        reference, total, seqnum = _sar(request)
        if concat is not None:
            reference, total, seqnum = concat.reference, concat.total, concat.seqnum
        if total is None or total <= 1:
            return Mo(source=source, destination=destination, text=text)
        assembled = self._parts.add(
            Fragment(
                source=source,
                destination=destination,
                reference=reference or 0,
                total=total,
                seqnum=seqnum or 0,
                text=text,
            )
        )
        return None if assembled is None else mo_from(assembled)

    def expired(self) -> list[Mo]:
        """Long MOs whose missing parts never came: what arrived, marked incomplete."""
        return [mo_from(a) for a in self._parts.expire()]

    def next_deadline(self) -> float | None:
        return self._parts.next_deadline()


class Deliveries:
    """What the SMSC delivers, on any link, handed to `on_deliver` one item at a time.

    deliver_sm / data_sm is answered only after `on_deliver` returns, so the caller can
    commit first; if it raises, the SMSC gets ESME_RX_T_APPN and delivers again. Other
    requests get generic_nack (alert_notification needs no answer).
    """

    def __init__(
        self, decoder: InboundDecoder, on_deliver: DeliverHandler, stats: SessionStats
    ) -> None:
        self._decoder = decoder
        self._on_deliver = on_deliver
        self._stats = stats

    async def on_request(self, link: Link, request: Any) -> None:
        command = request.command
        if command not in ("deliver_sm", "data_sm"):
            if command != "alert_notification":
                link.respond("generic_nack", request.sequence, Status.ESME_RINVCMDID)
            return
        status = Status.ESME_ROK
        try:
            item = self._decoder.decode(request)
            if item is not None:
                if isinstance(item, Mo):
                    self._stats.mo += 1
                else:
                    self._stats.receipts += 1
                await self._on_deliver(item)
        except Exception:
            self._stats.deliver_errors += 1
            log.exception("smpp_deliver_handler_failed", link=link.name, command=command)
            status = Status.ESME_RX_T_APPN
        link.respond(f"{command}_resp", request.sequence, status)

    async def expire_parts(self) -> None:
        """Hand over long MOs whose missing parts never came, rather than lose them."""
        while True:
            deadline = self._decoder.next_deadline()
            wait = 1.0 if deadline is None else min(1.0, max(0.0, deadline - time.monotonic()))
            await asyncio.sleep(wait)
            for mo in self._decoder.expired():
                self._stats.mo += 1
                try:
                    await self._on_deliver(mo)
                except Exception:
                    self._stats.deliver_errors += 1
                    log.exception("smpp_deliver_handler_failed", partial=True)

    def count_malformed(self, _exc: ProtocolError) -> None:
        self._stats.malformed_pdus += 1


def mo_from(assembled: Assembled) -> Mo:
    return Mo(
        source=assembled.source,
        destination=assembled.destination,
        text=assembled.text,
        complete=assembled.complete,
        parts=assembled.parts,
    )


def _payload(request: Any) -> bytes:
    payload = getattr(request, "message_payload", None)
    if payload:
        return bytes(payload)
    return bytes(getattr(request, "short_message", None) or b"")


def _sar(request: Any) -> tuple[int | None, int | None, int | None]:
    return (
        getattr(request, "sar_msg_ref_num", None),
        getattr(request, "sar_total_segments", None),
        getattr(request, "sar_segment_seqnum", None),
    )
