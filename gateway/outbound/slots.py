"""The sender's slots: which messages it is sending, and whether another may start.

A window's worth of messages (every link's window together) go at once, each holding its
slot from "taken from the store" to "outcome committed"; beyond them up to REPLY_SLOTS MO
replies may go, so that a citizen's answer never waits for a notice's send and commit to
end (under load, most of its wait), nor for a notice stuck on a slow carrier. The slots
bound what a crash can send twice: a message the SMSC accepted whose acceptance was not
yet committed goes again after a restart, so at most a window and REPLY_SLOTS replies.
"""

from __future__ import annotations

from gateway.domain.message import Priority, Queued

# MO replies sent beyond the window of notices, at most.
REPLY_SLOTS = 2


class Slots:
    """The ids being sent, at most `capacity` and REPLY_SLOTS replies beyond them."""

    __slots__ = ("_capacity", "_held", "_replies")

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._held: set[int] = set()
        self._replies: set[int] = set()  # of `_held`: the replies beyond the window

    @property
    def held(self) -> set[int]:
        """The messages being sent (not to be fetched again meanwhile)."""
        return self._held

    def __len__(self) -> int:
        return len(self._held)

    def free_for(self, m: Queued) -> bool:
        """Whether `m` may start now."""
        if len(self._held) < self._capacity:
            return True
        return m.priority <= Priority.MO_REPLY and len(self._replies) < REPLY_SLOTS

    def take(self, m: Queued) -> None:
        if len(self._held) >= self._capacity:
            self._replies.add(m.id)
        self._held.add(m.id)

    def give_back(self, message_id: int) -> None:
        self._held.discard(message_id)
        self._replies.discard(message_id)
