"""What a session is configured with, what one submit_sm carries, what a session counts.

Plain data, apart from the session's behaviour, so that the session, the response rule
(`gateway.smpp.response`) and their callers share one definition without import loops.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from gateway.smpp.errors import Expired, Withheld
from gateway.smpp.pdu import relative_validity

BindMode = Literal["transceiver", "transmitter_receiver"]


@dataclass(frozen=True, slots=True)
class SessionConfig:
    host: str
    port: int
    system_id: str
    password: str
    system_type: str = ""
    bind: BindMode = "transceiver"
    window: int = 10
    tps: float = 0.0
    enquire_link_interval: float = 30.0
    response_timeout: float = 30.0
    relink_after: float | None = None  # None: 4 × response_timeout
    bind_stable_after: float = 10.0
    connect_timeout: float = 10.0
    reconnect_min: float = 1.0
    reconnect_max: float = 60.0
    auth_backoff: float = 300.0
    throttle_pause: float = 1.0
    shutdown_timeout: float = 10.0
    mo_reassembly_timeout: float = 60.0
    status_classes: Mapping[int, str] = field(default_factory=dict)
    validity_period: bool = True

    @property
    def relink_timeout(self) -> float:
        """Seconds a submit may stay unanswered before its connection is replaced."""
        if self.relink_after is None:
            return 4 * self.response_timeout
        return max(self.relink_after, self.response_timeout)


@dataclass(frozen=True, slots=True)
class Submit:
    """One submit_sm. `short_message` is final octets (UDH included for a part)."""

    source: str
    destination: str
    short_message: bytes
    data_coding: int = 0
    source_ton: int = 5
    source_npi: int = 0
    dest_ton: int = 1
    dest_npi: int = 1
    esm_class: int = 0
    registered_delivery: int = 1
    priority_flag: int = 0
    # When the message stops being worth delivering (epoch seconds): sent as a relative
    # validity_period, computed at each write, so the SMSC drops it then too.
    expires_at: float | None = None
    # The clock `expires_at` is read with: the sender's, so both agree on "now".
    clock: Callable[[], float] = field(default=time.time, compare=False, repr=False)
    # Asked right before each write (not when the submit began: it may wait for a bind
    # or a throttle pause): False withholds it, unwritten. None: always allowed.
    may_write: Callable[[], bool] | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class SessionStats:
    """Counters for health and metrics; plain ints, read at any time."""

    binds: int = 0
    bind_failures: int = 0
    reconnects: int = 0
    submits_ok: int = 0
    submits_failed: int = 0
    throttled: int = 0
    outcome_unknown: int = 0  # connection closed with the submit unanswered: sent again
    responses_overdue: int = 0  # unanswered at response_timeout, still awaited
    late_responses: int = 0  # answered after response_timeout, settled all the same
    relinks: int = 0  # connections retired for an unanswered submit or a rebind answer
    receipts: int = 0
    mo: int = 0
    deliver_errors: int = 0
    malformed_pdus: int = 0

    @classmethod
    def total(cls, each: Iterable[SessionStats | None]) -> SessionStats:
        """The counters of several sessions (a link's, every link's) added up."""
        summed = cls()
        for stats in each:
            if stats is None:
                continue
            for f in fields(cls):
                setattr(summed, f.name, getattr(summed, f.name) + getattr(stats, f.name))
        return summed


def check_writable(sm: Submit) -> None:
    """The decision to write, taken right before the write: a submit may have waited
    (for a bind, a throttle pause, a rebind) past its TTL or into quiet hours.

    Raises `Expired` or `Withheld`; either way nothing was written.
    """
    if sm.expires_at is not None and sm.clock() >= sm.expires_at:
        raise Expired("the message's TTL passed before it could be written")
    if sm.may_write is not None and not sm.may_write():
        raise Withheld("not to be written now")


def submit_fields(
    sm: Submit, *, validity: bool = True, clock: Callable[[], float] | None = None
) -> dict[str, Any]:
    """The submit_sm fields for `sm`; validity_period is the time left now, if asked."""
    period = ""
    if validity and sm.expires_at is not None:
        period = relative_validity(sm.expires_at - (clock or sm.clock)())
    return {
        "service_type": "",
        "source_addr_ton": sm.source_ton,
        "source_addr_npi": sm.source_npi,
        "source_addr": sm.source,
        "dest_addr_ton": sm.dest_ton,
        "dest_addr_npi": sm.dest_npi,
        "destination_addr": sm.destination,
        "esm_class": sm.esm_class,
        "protocol_id": 0,
        "priority_flag": sm.priority_flag,
        "schedule_delivery_time": "",
        "validity_period": period,
        "registered_delivery": sm.registered_delivery,
        "replace_if_present_flag": 0,
        "data_coding": sm.data_coding,
        "sm_default_msg_id": 0,
        "short_message": sm.short_message,
    }
