"""The sender: takes due messages from the store, submits their parts, records the outcome.

Retry policy in one place: transient SMSC answers, *outcome unknown* and any unexpected
error in an attempt are retried with exponential back-off and jitter, each counting an
attempt, until `max_attempts` or the message's TTL; permanent answers fail at once;
throttling and rebind answers never reach here (the session absorbs them). *Outcome
unknown* now only means that the submit's connection closed before it was answered: a
late answer on a live connection settles the message in the session, so a slow SMSC
never makes a paid copy here. Parts already accepted are never sent again on a retry:
only the missing ones go. Outcomes are written in groups (one transaction per batch)
through a `Batcher`.

Quiet hours hold at send time, not only at queueing: inside them only the MO-reply lane
is fetched (and the rest of a long notice whose first parts went before), and with nothing
of it due the sender sleeps until the end of quiet hours (or new work), so a retry or a
backlog left by an outage never goes out at night.
A notice already taken before quiet hours began is asked again right before its write
(`Submit.may_write`): one that waited into them (for a bind, a throttle pause) is put
back, unwritten and with no attempt counted, until they end. MO replies never wait.

At most `window` messages, and beyond them a few MO replies (`slots.Slots`), are between
"taken from the store" and "outcome committed": a SIGKILL duplicates no more. The
outcome batch closes as soon as every one of them is waiting for it, so holding the slot
through the commit costs a fraction of a millisecond.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from contextlib import nullcontext
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import structlog

from gateway.backoff import Backoff
from gateway.calendar.workdays import QuietHours
from gateway.domain.message import Outcome, PartResult, Priority, Queued
from gateway.domain.states import MessageState
from gateway.outbound.inflight import first_of
from gateway.outbound.routing import Router, Trail
from gateway.outbound.slots import Slots
from gateway.settings.config import RetryConfig
from gateway.smpp.account import receipt_keys
from gateway.smpp.errors import (
    ConnectError,
    Expired,
    NotBound,
    OutcomeUnknown,
    StatusError,
    Throttled,
    Withheld,
)
from gateway.smpp.outgoing import Outgoing
from gateway.smpp.pdu import StatusClass
from gateway.smpp.session import Session
from gateway.smpp.text import Encoding
from gateway.store.batch import Batcher
from gateway.store.lanes import urgent
from gateway.store.outbox import Outbox

log = structlog.get_logger("gateway.outbound.sender")

# Pause after the store could not be read for due messages, seconds.
FETCH_RETRY = 1.0

# Longest idle wait before the store is asked again, seconds.
IDLE_MAX = 5.0
# Seconds a message the SMSC throttled on every try waits in the store before it goes again.
THROTTLED_AGAIN_AFTER = 30.0
# Seconds a message no link took (none bound within its failover wait) waits in the store.
UNROUTED_AGAIN_AFTER = 1.0


class Sender:
    def __init__(
        self,
        outbox: Outbox,
        links: Router | Session,
        retry: RetryConfig,
        *,
        encoding: Encoding | None = None,
        clock: Callable[[], float] = time.time,
        quiet: QuietHours | None = None,
        tz: ZoneInfo | None = None,
    ) -> None:
        if quiet is not None and tz is None:
            raise ValueError("quiet hours need the time zone they are local to")
        self._quiet = quiet
        self._tz = tz
        self._outbox = outbox
        # The SMSC links, in routing order (a lone session: the one link `default`).
        self._router = links if isinstance(links, Router) else Router.single(links)
        self._retry = retry
        # The composer counted the segments with the same encoding (smpp.ref16,
        # smpp.default_alphabet): the parts sent are the parts counted. None: GSM-7 with
        # 8-bit references, the configuration's defaults.
        self._encoding = encoding or Encoding()
        self._clock = clock
        self._capacity = self._router.window
        self._tenure = outbox.tenure  # whether what it claimed is still this daemon's
        # Fetched ahead, not sent yet (so a crash loses nothing from here), most urgent
        # first: the next window's worth is ready when a slot frees, without a query.
        self._ready: list[Queued] = []
        self._ready_since = 0.0  # when the oldest fetch of `_ready` began (`Tenure.clock`)
        self._fetch: asyncio.Task[bool] | None = None
        self._slots = Slots(self._capacity)
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False

    async def run(self) -> None:
        """Feed the session until cancelled."""
        writer: Batcher[Outcome] = Batcher(
            self._outbox.record_outcomes, max_items=self._capacity, max_wait=0.005
        )
        async with writer:
            self._writer = writer
            try:
                while True:
                    await self._fill()
            finally:
                self._stopping = True
                pending = [*self._tasks, *([self._fetch] if self._fetch else [])]
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                self._fetch = None
                self._ready.clear()
                self._stopping = False

    async def drain(self, timeout: float) -> None:
        """Stop taking new messages; let the ones being sent finish (bounded)."""
        self._stopping = True
        self._wake.set()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)

    async def _fill(self) -> None:
        self._wake.clear()
        if self._stopping:
            await self._wake.wait()
            return
        if self._ready and not self._tenure.held_since(self._ready_since):
            self._ready.clear()  # stalled past its lease: these may be another daemon's now
        if not self._tenure.holds():
            await self._tenure.regained(IDLE_MAX)  # fetched again after the next heartbeat
            return
        if self._ready and self._quiet_now():
            # Fetched before quiet hours began: notices stay queued in the store, but
            # not the rest of one whose first parts are out.
            self._ready = [
                m for m in self._ready if m.priority <= Priority.MO_REPLY or m.done_parts
            ]
        while self._ready and self._slots.free_for(self._ready[0]):
            self._start(self._ready.pop(0))
        # An MO reply queued since the last fetch is fetched now, even with a window's
        # worth of notices ready: it must not wait behind them (they are sorted after it).
        # Only replies are fetched then, so what waits fetched ahead stays bounded.
        replies_only = len(self._ready) >= self._capacity
        if self._fetch is None and (not replies_only or self._outbox.reply_added.is_set()):
            self._fetch = asyncio.create_task(self._fetch_due(replies_only), name="outbox.fetch")
            self._fetch.add_done_callback(lambda _t: self._wake.set())
        elif self._fetch is not None and self._fetch.done():
            fetch, self._fetch = self._fetch, None
            try:
                found = fetch.result()
                if not found:
                    # Nothing more is due, also while sends are under way (one throttled
                    # for as long as its TTL) or the window is full with messages ready:
                    # asking the store again at once would spin.
                    await self._idle()
            except Exception as exc:
                # The store cannot be read; the sends under way carry on.
                log.error("outbox_fetch_failed", error=str(exc), retry_in=FETCH_RETRY)
                await asyncio.sleep(FETCH_RETRY)
            return
        # While a fetch is under way its end sets `_wake`; a reply queued meanwhile: next.
        await first_of(self._wake, *([] if self._fetch else [self._outbox.reply_added]))

    async def _fetch_due(self, replies_only: bool = False) -> bool:
        if not replies_only:
            self._outbox.queued_added.clear()
        self._outbox.reply_added.clear()
        skip = self._slots.held | {m.id for m in self._ready}
        lanes = int(Priority.MO_REPLY) if replies_only else self._lanes_now()
        mark = self._tenure.clock()
        with urgent() if replies_only else nullcontext():  # replies: a citizen waits
            batch = await self._outbox.due(2 * self._capacity, exclude=skip, max_priority=lanes)
        if not self._tenure.held_since(mark):
            return True  # taken while its claims had lapsed: fetched again after a beat
        skip = self._slots.held | {m.id for m in self._ready}  # moved on while we waited
        fresh = [m for m in batch if m.id not in skip]
        if not self._ready:
            self._ready_since = mark
        self._ready = sorted([*self._ready, *fresh], key=lambda m: (m.priority, m.id))
        return bool(fresh)

    async def _idle(self) -> None:
        """Nothing due: wait for new work, the next retry time, the end of quiet hours, or
        a send under way to end (it may leave a retry due, or free the slot for drain)."""
        self._wake.clear()  # set by what ended before this wait: the times below cover it
        now = self._clock()
        lanes = self._lanes_now()
        next_at = await self._outbox.next_due_at(
            max_priority=lanes, exclude=self._slots.held | {m.id for m in self._ready}
        )
        if lanes is not None:
            release = self._quiet_end(now)
            next_at = release if next_at is None else min(next_at, release)
        wait = IDLE_MAX if next_at is None else min(IDLE_MAX, max(0.0, next_at - now))
        await first_of(self._outbox.queued_added, self._wake, timeout=wait)

    def _quiet_now(self) -> bool:
        if self._quiet is None or self._tz is None:
            return False
        return self._quiet.is_quiet(datetime.fromtimestamp(self._clock(), UTC), self._tz)

    def _lanes_now(self) -> int | None:
        """The highest priority lane that may go now: MO replies only in quiet hours."""
        return int(Priority.MO_REPLY) if self._quiet_now() else None

    def _may_notify(self) -> bool:
        """Asked by the session right before a notice is written."""
        return not self._quiet_now()

    def _quiet_end(self, now: float) -> float:
        assert self._quiet is not None and self._tz is not None
        return self._quiet.release_at(datetime.fromtimestamp(now, UTC), self._tz).timestamp()

    def _start(self, message: Queued) -> None:
        self._slots.take(message)
        task = asyncio.create_task(self._send(message), name=f"outbox.send[{message.id}]")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, m: Queued) -> None:
        try:
            outcome = await self._attempt(m)
            if outcome is not None:
                # Held, with its slot, until committed: a message whose acceptance is not
                # yet on disk must not be taken from the store and sent a second time.
                await self._writer.put_until_stored(
                    outcome, event="outcome_commit_failed", message=m.id
                )
                log.info(
                    "message_outcome",
                    message=m.id,
                    kind=m.kind,
                    state=outcome.state,
                    reason=outcome.reason,
                )
        except Exception:
            log.exception("message_send_failed", message=m.id)
        finally:
            self._slots.give_back(m.id)
            self._wake.set()

    async def _attempt(self, m: Queued) -> Outcome | None:
        if self._clock() > m.expires_at:
            return Outcome(
                m, MessageState.EXPIRED, m.attempts, m.expires_at, reason="ttl ended unsent"
            )
        done: list[PartResult] = []
        try:
            return await self._submit_parts(m, done)
        except Exception as exc:
            # A bug or an answer nobody foresaw must not leave the message due at once
            # with its attempts unchanged: that is a hot loop (thousands of tries a
            # second). It is a failed attempt like any other, and backs off.
            log.exception("message_attempt_failed", message=m.id, error=type(exc).__name__)
            return self._retry_later(m, done, f"error: {type(exc).__name__}")

    async def _submit_parts(self, m: Queued, done: list[PartResult]) -> Outcome:
        """The parts not yet out, each by the link routing picks (the first part's link
        for the rest); the outcome records the link the last part was written on,
        whatever its answer (a retry after no acceptance prefers another link)."""
        trail = Trail()
        outcome = await self._parts(m, done, trail)
        if trail.wrote is None or outcome.link is not None:
            return outcome
        return dataclasses.replace(outcome, link=trail.wrote)

    async def _parts(self, m: Queued, done: list[PartResult], trail: Trail) -> Outcome:
        outgoing = Outgoing.of(
            m.text,
            source=m.source,
            destination=m.phone,
            # Composed as one part it took none; cut now (another alphabet), its id serves.
            reference=m.concat_ref if m.segments > 1 else m.id,
            encoding=self._encoding,
            expires_at=m.expires_at,
            clock=self._clock,
        )
        # Quiet hours are asked before a message's first part only: once one part is out,
        # the rest follow at once, since a phone cannot join parts sent hours apart.
        ask = m.priority > Priority.MO_REPLY and not m.done_parts
        # Pinned to a link: an MO reply's (the MO's), or where its first parts went.
        for seq in range(1, outgoing.segments + 1):
            if seq in m.done_parts:
                continue
            submit = outgoing.submit(seq, may_write=self._may_notify if ask and not done else None)
            try:
                sent = await self._router.submit(m, submit, trail)
            except NotBound:
                # No matching link bound within its failover wait: nothing written, no
                # attempt spent; back in the store for a moment, then routed again.
                at = self._clock() + UNROUTED_AGAIN_AFTER
                if at > m.expires_at:
                    return self._unsent(m, done)
                return Outcome(
                    m, MessageState.QUEUED, m.attempts, at, parts=done, reason="smsc: no link"
                )
            except StatusError as exc:
                if exc.status_class == StatusClass.TRANSIENT:
                    return self._retry_later(m, done, f"smsc: {exc.name}")
                return Outcome(
                    m,
                    MessageState.FAILED,
                    m.attempts + 1,
                    self._clock(),
                    parts=done,
                    reason=f"smsc: {exc.name}",
                )
            except OutcomeUnknown:
                # The connection closed with this submit unanswered: it may have been
                # accepted, but no answer can come now. Sent again, at most once per
                # broken connection, counted so that it ends.
                return self._retry_later(
                    m, done, "smsc: link closed before the response (outcome unknown)"
                )
            except Expired:
                # Waited (throttled, unbound) past its TTL: this part was never written.
                return self._unsent(m, done)
            except Withheld:
                # Quiet hours began while it waited: back in the store, no attempt spent.
                at = self._quiet_end(self._clock())
                return Outcome(
                    m, MessageState.QUEUED, m.attempts, at, parts=done, reason="quiet hours"
                )
            except Throttled:
                # The carrier throttles this one on every try: back in the store for a
                # while, its slot free for the others, no attempt spent; its TTL ends it.
                # An MO reply is due again at once: fetched first, it takes the next free
                # slot before any notice (a citizen is waiting for it).
                again = 0.0 if m.priority <= Priority.MO_REPLY else THROTTLED_AGAIN_AFTER
                at = self._clock() + again
                if at > m.expires_at:
                    return self._unsent(m, done)
                return Outcome(
                    m, MessageState.QUEUED, m.attempts, at, parts=done, reason="smsc: throttled"
                )
            except ConnectError:
                # Closing: nothing more was sent. Keep what was accepted, stay queued.
                return Outcome(m, MessageState.QUEUED, m.attempts, self._clock(), parts=done)
            done.append(PartResult(m.id, seq, sent.smsc_id, receipt_keys(sent.link, sent.smsc_id)))
        return Outcome(
            m,
            MessageState.SUBMITTED,
            m.attempts + 1,
            self._clock(),
            parts=done,
            segments=outgoing.segments,
            link=trail.wrote,
        )

    def _unsent(self, m: Queued, done: list[PartResult]) -> Outcome:
        """Its TTL ends before the part could be written: `expired`, no attempt spent."""
        reason = "ttl ended unsent"
        return Outcome(
            m, MessageState.EXPIRED, m.attempts, self._clock(), parts=done, reason=reason
        )

    def _retry_later(self, m: Queued, done: list[PartResult], reason: str) -> Outcome:
        attempts = m.attempts + 1
        now = self._clock()
        if attempts >= self._retry.max_attempts:
            return Outcome(
                m,
                MessageState.FAILED,
                attempts,
                now,
                parts=done,
                reason=f"retries exhausted ({attempts}), last: {reason}",
            )
        at = now + Backoff(self._retry.base_delay, self._retry.max_delay).delay(attempts - 1)
        if at > m.expires_at:
            return Outcome(
                m,
                MessageState.EXPIRED,
                attempts,
                now,
                parts=done,
                reason=f"ttl ends before next retry, last: {reason}",
            )
        return Outcome(m, MessageState.QUEUED, attempts, at, parts=done, reason=reason)

