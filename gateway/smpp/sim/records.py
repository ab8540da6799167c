"""What the simulator saw: each submit_sm as it arrived, and counters a test reads."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from gateway.smpp import pdu
from gateway.smpp.codes import ESM_UDHI
from gateway.smpp.sim.connection import Conn
from gateway.smpp.text import decode


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
    # The session's bind system_type: tells apart several ESMEs binding one account.
    system_type: str = ""

    @property
    def body(self) -> bytes:
        """short_message without its UDH."""
        if self.esm_class & ESM_UDHI and self.short_message:
            return self.short_message[1 + self.short_message[0] :]
        return self.short_message

    @property
    def text(self) -> str:
        return decode(self.data_coding, self.body)


@dataclass(slots=True)
class SimStats:
    binds: int = 0
    bind_failures: int = 0
    receipts_elsewhere: int = 0  # receipts sent on another session than their submit's
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


def record_of(
    conn: Conn, request: Any, status: int, message_id: str, at: float
) -> SubmitRecord:
    """The record of `request`, a submit_sm that came on `conn`."""
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
        system_type=conn.system_type,
    )
