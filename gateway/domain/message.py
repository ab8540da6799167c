"""Messages as the parts of the gateway hand them to each other: a new one for the store
(`NewMessage`), a queued one for the sender (`Queued`), what a send attempt did
(`Outcome`, `PartResult`), a receipt for the store (`ReceiptUpdate`), an MO (`MoRecord`).

States are `MessageState` members, checked against the transition table when a value is
made: a message is born queued or refused (`BORN`), and a send attempt leaves a queued
message only in a state that may follow `queued`. A caller's mistake fails where it is
made, not as a status no agency's software knows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

from gateway.domain.channel import Channel
from gateway.domain.states import BORN, MessageState


class Priority(IntEnum):
    """Lower goes first: a citizen waiting for a reply, then notices, then apologies."""

    MO_REPLY = 0
    NOTICE = 1
    APOLOGY = 2


def _state(value: str, allowed: frozenset[MessageState], what: str) -> MessageState:
    state = MessageState(value)
    if state not in allowed:
        names = ", ".join(sorted(allowed))
        raise ValueError(f"{what} cannot be {state.value!r}; it is one of {names}")
    return state


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message about to enter the store: queued, or already final (rejected/skipped)."""

    agency: str
    ref: str
    kind: str
    source: str
    priority: int
    state: MessageState
    not_before: float
    expires_at: float
    phone: str | None = None
    text: str | None = None
    segments: int = 0
    concat_ref: int = 0
    reason: str | None = None
    event_id: str | None = None
    receipt_no: str | None = None
    procedure: str | None = None
    digest: str | None = None  # an SMS job's content (gateway/intake/repeats.py)
    link: str | None = None  # the SMSC link it must go by (an MO reply: the MO's)
    channel: Channel = Channel.SMS  # the channel it goes by first
    zns: str | None = None  # a Zalo notice: its template and parameters (JSON)
    chat_user: str | None = None  # a reply in the Zalo chat: the user it goes to

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", _state(self.state, BORN, "a new message"))


@dataclass(frozen=True, slots=True)
class MoRecord:
    """One MO as received and what the dispatcher decided (`outcome`)."""

    at: float
    sender: str
    shortcode: str
    text: str
    keyword: str | None
    outcome: str
    reply_ref: str | None = None


@dataclass(frozen=True, slots=True)
class Queued:
    """A queued message as the sender needs it."""

    id: int
    agency: str
    ref: str
    kind: str
    phone: str
    source: str
    text: str
    priority: int
    attempts: int
    concat_ref: int
    expires_at: float
    event_id: str | None
    receipt_no: str | None
    done_parts: frozenset[int]
    link: str | None = None  # the SMSC link it goes by: pinned, or its first parts'
    segments: int = 0  # the parts its text takes, as stored
    channel: Channel = Channel.SMS
    zns: str | None = None
    chat_user: str | None = None


@dataclass(frozen=True, slots=True)
class PartResult:
    """One part accepted by the SMSC: its id and the keys a receipt will be matched by."""

    message_id: int
    seq: int
    smsc_id: str
    keys: frozenset[str]


_AFTER_SENDING = frozenset(s for s in MessageState if MessageState.QUEUED.may_become(s))


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one send attempt: `state` is submitted, queued (retry) or final."""

    message: Queued
    state: MessageState
    attempts: int
    not_before: float
    parts: Sequence[PartResult] = ()
    reason: str | None = None
    segments: int | None = None
    link: str | None = None  # the SMSC link its parts went by
    # Set when the attempt hands the message to another channel (Zalo to SMS).
    channel: Channel | None = None
    channel_id: str | None = None  # the channel's id for what it accepted (Zalo's msg_id)
    fallback_at: float | None = None  # accepted by Zalo: when the SMS goes unconfirmed

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", _state(self.state, _AFTER_SENDING, "a send outcome"))

    @property
    def goes_by(self) -> Channel:
        """The channel this outcome leaves the message on."""
        return self.channel or self.message.channel


class ReceiptUpdate(NamedTuple):
    """A delivery receipt as the store applies it: the part's message-id keys
    (`smpp.receipt.message_id_keys`), the part's new state (a `PartState` value), and the
    error to report if it fails the message. A tuple, because the store groups and
    compares receipts by value."""

    keys: frozenset[str]
    state: str
    error: str | None
