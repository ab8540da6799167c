"""Putting a citizen's long MO back together from its parts.

A long MO (a lookup with a long receipt number and a question, say) reaches us as several
deliver_sm, each carrying a reference, the number of parts and its own part number, in a
UDH (8- or 16-bit reference) or in SAR TLVs. The SMSC delivers them in any order, may
deliver one twice (when our deliver_sm_resp was lost) and may never deliver one at all.
Each lookup costs the citizen 1,000 VND, so a message that stays incomplete is handed over
as far as it got after a timeout rather than dropped, and so is one pushed out by too many
pending messages.

Pure bookkeeping: no I/O, no timers. The caller feeds parts with `add`, asks
`next_deadline` when to call `expire`, and calls it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Fragment:
    """One part of a long MO, as the deliver_sm carried it (text already decoded)."""

    source: str
    destination: str
    reference: int
    total: int
    seqnum: int
    text: str


@dataclass(frozen=True, slots=True)
class Assembled:
    """A message put back together: whole (`complete`), or the parts that came, in order.

    `parts` is the number of parts the text was made from.
    """

    source: str
    destination: str
    text: str
    complete: bool
    parts: int


# (source, destination, reference, total) for a well-formed part. A part whose seqnum is
# outside 1..total gets its seqnum appended, so it can never land in, or break, a real group.
_Key = tuple[str, str, int, int] | tuple[str, str, int, int, int]


@dataclass(slots=True)
class _Group:
    source: str
    destination: str
    total: int
    started: float
    parts: dict[int, str] = field(default_factory=dict)

    def assemble(self, *, complete: bool) -> Assembled:
        ordered = [self.parts[seqnum] for seqnum in sorted(self.parts)]
        return Assembled(
            source=self.source,
            destination=self.destination,
            text="".join(ordered),
            complete=complete,
            parts=len(ordered),
        )


class Reassembler:
    """Collects the parts of long MOs and hands each message over exactly once.

    Parts belong together when source, destination, reference and total agree; the same
    reference from two phones, or to two shortcodes, makes two messages. Choices for odd
    input (none of them raises):

    - a repeated seqnum keeps the first text: a repeat is the SMSC resending the same part;
    - a part that repeats one of a message completed less than `timeout` ago is ignored too,
      so a late resend does not start a new message that would expire as a stray fragment
      and get the citizen a second, confusing answer;
    - a total that disagrees with a group's total is, by the key, another message;
    - a seqnum outside 1..total cannot belong to any message: it is kept as a group of its
      own (deduplicated like any part), never completes, and comes out of `expire` after
      the timeout with complete=False, so its text still reaches the keyword handler;
    - total of 1 or less is a whole message and is returned at once.
    """

    def __init__(
        self,
        *,
        timeout: float = 60.0,
        max_pending: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if timeout < 0:
            raise ValueError("timeout must not be negative")
        if max_pending < 1:
            raise ValueError("max_pending must be at least 1")
        self._timeout = timeout
        self._max_pending = max_pending
        self._clock = clock
        # Insertion order is age order: the first group is the oldest.
        self._groups: dict[_Key, _Group] = {}
        # Pushed out by max_pending, waiting for the next expire(): (when, message).
        self._evicted: list[tuple[float, Assembled]] = []
        # Recently completed messages: key -> (until when to remember, seqnum -> text).
        self._done: dict[_Key, tuple[float, dict[int, str]]] = {}

    def add(self, fragment: Fragment) -> Assembled | None:
        """Take one part; return the whole message when this part completes it, else None."""
        if fragment.total <= 1:
            return Assembled(
                source=fragment.source,
                destination=fragment.destination,
                text=fragment.text,
                complete=True,
                parts=1,
            )
        now = self._clock()
        key = _key_of(fragment)
        group = self._groups.get(key)
        if group is None:
            if self._is_late_repeat(key, fragment, now):
                return None
            group = self._open(key, fragment, now)
        if fragment.seqnum in group.parts:
            return None
        group.parts[fragment.seqnum] = fragment.text
        if len(group.parts) < group.total:
            return None
        del self._groups[key]
        self._remember(key, group, now)
        return group.assemble(complete=True)

    def expire(self) -> list[Assembled]:
        """Messages given up on: evicted ones, then those older than the timeout, oldest first.

        Each comes with complete=False and the parts that came, joined in order: a partial
        lookup still deserves an answer. They are forgotten once returned.
        """
        now = self._clock()
        out = [message for _, message in self._evicted]
        self._evicted.clear()
        while self._groups:
            key, group = next(iter(self._groups.items()))
            if now < group.started + self._timeout:
                break
            del self._groups[key]
            out.append(group.assemble(complete=False))
        self._forget_done(now)
        return out

    def next_deadline(self) -> float | None:
        """The clock value at which `expire` next has something to return; None if nothing.

        With an evicted message waiting, that is when it was evicted: already passed, so
        the caller's timer fires at once.
        """
        if self._evicted:
            return self._evicted[0][0]
        if not self._groups:
            return None
        oldest = next(iter(self._groups.values()))
        return oldest.started + self._timeout

    def __len__(self) -> int:
        """Messages still collecting parts (evicted ones waiting for `expire` not counted)."""
        return len(self._groups)

    def _open(self, key: _Key, fragment: Fragment, now: float) -> _Group:
        while len(self._groups) >= self._max_pending:
            oldest_key = next(iter(self._groups))
            oldest = self._groups.pop(oldest_key)
            self._evicted.append((now, oldest.assemble(complete=False)))
        group = _Group(
            source=fragment.source,
            destination=fragment.destination,
            total=fragment.total,
            started=now,
        )
        self._groups[key] = group
        return group

    def _remember(self, key: _Key, group: _Group, now: float) -> None:
        self._forget_done(now)
        self._done.pop(key, None)
        while len(self._done) >= self._max_pending:
            del self._done[next(iter(self._done))]
        self._done[key] = (now + self._timeout, group.parts)

    def _is_late_repeat(self, key: _Key, fragment: Fragment, now: float) -> bool:
        """True for a resend of a part of a message completed less than `timeout` ago.

        Same key, same seqnum *and* same text: a new message that happens to reuse the
        reference differs in its text and starts a group as it should.
        """
        done = self._done.get(key)
        if done is None or now >= done[0]:
            return False
        return done[1].get(fragment.seqnum) == fragment.text

    def _forget_done(self, now: float) -> None:
        while self._done:
            key, (until, _) = next(iter(self._done.items()))
            if now < until:
                break
            del self._done[key]


def _key_of(fragment: Fragment) -> _Key:
    base = (fragment.source, fragment.destination, fragment.reference, fragment.total)
    if 1 <= fragment.seqnum <= fragment.total:
        return base
    return (*base, fragment.seqnum)
