"""The state vocabulary of messages and of their parts, and the one table of which
state may follow which.

A message's state is what its status payload says (`state`: the values are the wire
strings), so every part of the gateway speaks of states through `MessageState` and asks
`FOLLOWS` whether a change may happen, rather than spelling states out itself.

A message is born `queued`, or already final (`rejected`, `skipped`: refused or not sent
at intake). A send attempt leaves it queued (a retry, quiet hours), `submitted` (every
part accepted by the SMSC), or final (`failed`, `expired`). Only a submitted message is
settled by its parts' receipts, or expired when no final receipt comes. A notice
submitted by Zalo that Zalo does not confirm in time is queued again, for SMS
(`gateway.domain.channel.FALLS_BACK_TO`): the one way back from `submitted`. A final state
is never left: its status was published, and a status topic does not take it back.

A part (one submit_sm) has states of its own, `PartState`, which receipts move towards
the final only: a late ENROUTE never undoes DELIVRD, and of two final receipts for one id
the first stays (`PART_FOLLOWS`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from types import MappingProxyType


class MessageState(StrEnum):
    """Where a message stands; the value is the status payload's `state`."""

    QUEUED = "queued"
    SUBMITTED = "submitted"
    DELIVERED = "delivered"
    UNDELIVERABLE = "undeliverable"
    EXPIRED = "expired"
    FAILED = "failed"
    REJECTED = "rejected"
    SKIPPED = "skipped"

    @property
    def is_final(self) -> bool:
        """Nothing follows: the message never changes again."""
        return not FOLLOWS[self]

    def may_become(self, new: MessageState) -> bool:
        return new in FOLLOWS[self]


class PartState(StrEnum):
    """What is known of one submitted part; receipts move it towards the final."""

    SUBMITTED = "submitted"  # accepted by the SMSC, no receipt yet
    ENROUTE = "enroute"  # a receipt that settles nothing (ENROUTE, ACCEPTD, UNKNOWN)
    DELIVERED = "delivered"
    UNDELIVERABLE = "undeliverable"
    EXPIRED = "expired"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        return not PART_FOLLOWS[self]

    def outranked_by(self, new: PartState) -> bool:
        """True when `new` may replace this state: a not-yet-final state gives way to one
        at least as final; a final state to nothing.

        The first final answer stays because it is the one already given: the message
        was settled on it and its status published, and a status topic does not take a
        final state back. A second final receipt for the same id is a carrier's
        duplicate or contradiction, and applying the same rule to receipts that overtook
        their submit outcome makes the answer the same whichever side of the commit they
        fell on.
        """
        return new in PART_FOLLOWS[self]


_M = MessageState
_SETTLED = frozenset({_M.DELIVERED, _M.UNDELIVERABLE, _M.EXPIRED, _M.FAILED})

# Which state may follow which. A state that nothing follows is final.
FOLLOWS: Mapping[MessageState, frozenset[MessageState]] = MappingProxyType(
    {
        # A send attempt: retried (still queued), accepted, or given up; a reply in the
        # Zalo chat is delivered once Zalo takes it, and a Zalo notice whose receipt came
        # before its acceptance was recorded is delivered from queued.
        _M.QUEUED: frozenset({_M.QUEUED, _M.SUBMITTED, _M.DELIVERED, _M.EXPIRED, _M.FAILED}),
        # Its parts' receipts (or Zalo's) settle it, the receipt timeout expires it, or
        # Zalo's fallback timer queues it again for SMS.
        _M.SUBMITTED: _SETTLED | {_M.QUEUED},
        **{state: frozenset() for state in (*_SETTLED, _M.REJECTED, _M.SKIPPED)},
    }
)

# The states a message may enter the store in: to be sent, or refused at intake.
BORN = frozenset({_M.QUEUED, _M.REJECTED, _M.SKIPPED})

FINAL_STATES = frozenset(state for state in MessageState if state.is_final)

# Not final: waiting to be sent, or sent and waiting for its receipt.
WAITING = frozenset(MessageState) - FINAL_STATES

_P = PartState
_PART_FINAL = frozenset({_P.DELIVERED, _P.UNDELIVERABLE, _P.EXPIRED, _P.FAILED})

# Which part state a receipt may replace with which: only ever towards the final, and a
# final one with nothing ("enroute never undoes delivered", "the first final answer
# stays").
PART_FOLLOWS: Mapping[PartState, frozenset[PartState]] = MappingProxyType(
    {
        _P.SUBMITTED: frozenset(PartState),
        _P.ENROUTE: frozenset({_P.ENROUTE, *_PART_FINAL}),
        **{state: frozenset() for state in _PART_FINAL},
    }
)

# A failing part decides its message; when parts fail differently, the later listed wins.
_FAILURES = (
    (PartState.UNDELIVERABLE, MessageState.UNDELIVERABLE),
    (PartState.EXPIRED, MessageState.EXPIRED),
    (PartState.FAILED, MessageState.FAILED),
)


def settled_by_parts(parts: Sequence[PartState], segments: int) -> MessageState | None:
    """The final state a submitted message's parts give it, or None while they give none:
    delivered once all its parts are, a failure as soon as any part has one."""
    final = None
    for part, failure in _FAILURES:
        if part in parts:
            final = failure
    if final is None and len(parts) >= segments and all(p is PartState.DELIVERED for p in parts):
        final = MessageState.DELIVERED
    return final
