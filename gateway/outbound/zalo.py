"""The Zalo sender: takes due Zalo messages from the store, sends each through Zalo's API,
records what became of it with the same `Outcome` rows as the SMS sender.

A notice goes as a ZNS template message; a reply to a lookup in the Official Account's
chat as a chat message. What Zalo answers decides what follows (`gateway.zalo.errors`):

- accepted: a notice is `submitted`, with its fallback timer (`fallback_after`): no
  receipt by then and it goes by SMS (`gateway.store.zalo`); a chat reply is `delivered`
  (the chat is where the citizen asked, and holds it).
- refused for this citizen or this template (no Zalo account, template not approved,
  quota exhausted): a notice goes by SMS at once, its attempts counted afresh; a chat
  reply fails (only the chat knows where the citizen is).
- a passing failure (rate limit, server error, Zalo unreachable): tried again with the
  one back-off (`gateway.backoff`), up to `retry.max_attempts`; after that a notice goes
  by SMS, a chat reply fails.
- sent but unanswered (Zalo slower than `zalo.timeout`): Zalo may have taken it, so a
  notice is not sent again: it is `submitted` with its fallback timer, as if accepted (a
  receipt settles it; none, and the SMS goes when the timer ends). A chat reply is tried
  again: a second copy of a free answer is better than none.
- refused for all (the token cannot be refreshed, the app or OA not authorised): stopped.
  The notice goes by SMS, and so does every Zalo notice for `STOP_PAUSE` seconds without
  Zalo being asked; the log says why, once, at error level.

Quiet hours hold here as for SMS: inside them only chat replies go (a citizen asked, and
is waiting); notices wait for the morning. At most `window` messages are in flight, each
held until its outcome is committed. A notice is marked in the store before its request
goes (`ZaloBook.sending`): after a crash, one whose answer was not recorded waits for its
receipt instead of going to Zalo twice (`ZaloBook.unanswered_at_start`); a chat reply may
be sent again (a second copy of a free answer rather than none).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from typing import Protocol
from zoneinfo import ZoneInfo

import structlog

from gateway.backoff import Backoff
from gateway.calendar.workdays import QuietHours
from gateway.domain.channel import FALLS_BACK_TO, Channel
from gateway.domain.message import Outcome, Priority, Queued
from gateway.domain.states import MessageState
from gateway.outbound.inflight import InFlight, Quiet
from gateway.settings.config import RetryConfig
from gateway.store.batch import Batcher
from gateway.store.outbox import Outbox
from gateway.store.zalo import ZaloBook, tracking_id
from gateway.zalo.errors import ZnsAction, ZnsError

log = structlog.get_logger("gateway.outbound.zalo")

# Seconds Zalo is left alone after it refused the gateway itself (token, authorisation).
STOP_PAUSE = 300.0
# Longest idle wait before the store is asked again, seconds. The store's "queued" signal
# belongs to the SMS sender (it clears it when it reads), so this sender asks on its own
# every second: a read of an index, and at most a second's wait for a chat reply.
IDLE_MAX = 1.0
# Pause after the store could not be read, seconds.
FETCH_RETRY = 1.0
# How every reason this sender writes begins.
ZALO_SAYS = "zalo: "


class ZaloApi(Protocol):
    """What the sender asks of Zalo (`gateway.zalo.client.ZaloClient`)."""

    async def send_zns(
        self, phone: str, template_id: str, params: Mapping[str, str], tracking_id: str
    ) -> str: ...

    async def send_chat(self, user_id: str, text: str) -> str: ...


class ZaloSender:
    def __init__(
        self,
        outbox: Outbox,
        book: ZaloBook,
        api: ZaloApi,
        retry: RetryConfig,
        *,
        fallback_after: float,
        window: int = 4,
        clock: Callable[[], float] = time.time,
        quiet: QuietHours | None = None,
        tz: ZoneInfo | None = None,
    ) -> None:
        self._outbox = outbox
        self._book = book
        self._api = api
        self._retry = retry
        self._fallback_after = fallback_after
        self._window = window
        self._clock = clock
        self._quiet = Quiet(quiet, tz, clock)
        self._sends = InFlight(window, "zalo.send")
        self._stopped_until = 0.0

    async def run(self) -> None:
        """Send until cancelled. First, what an earlier run sent and never heard the end
        of (a crash, a stop mid-request) waits for its receipt: it is not sent again."""
        unanswered = 0
        while found := await self._book.unanswered_at_start():
            unanswered += found
        if unanswered:
            log.warning("zalo_unanswered_at_start", messages=unanswered, then="fallback timer")
        writer: Batcher[Outcome] = Batcher(
            self._outbox.record_outcomes, max_items=self._window, max_wait=0.005
        )
        async with writer:
            self._writer = writer
            try:
                while True:
                    await self._fill()
            finally:
                await self._sends.cancel()

    async def _fill(self) -> None:
        self._sends.look()
        free = self._sends.free
        tenure = self._outbox.tenure
        if not tenure.holds():
            # Stalled past its lease: another daemon may have taken its claims.
            await tenure.regained(IDLE_MAX)
            return
        if free > 0:
            release = self._quiet.until()
            lanes = int(Priority.MO_REPLY) if release is not None else None
            try:
                mark = tenure.clock()
                due = await self._outbox.due(
                    free, exclude=self._sends.busy, max_priority=lanes, channel=Channel.ZALO
                )
                if not tenure.held_since(mark):
                    return  # fetched while its claims had lapsed: fetched again after a beat
                notices = [m.id for m in due if m.chat_user is None]
                await self._book.sending(notices, self._fallback_after)
            except Exception as exc:
                log.error("zalo_fetch_failed", error=str(exc), retry_in=FETCH_RETRY)
                await asyncio.sleep(FETCH_RETRY)
                return
            for message in due:
                self._sends.start(message.id, self._send(message))
            if due:
                return
            await self._idle(lanes, release)
            return
        await self._sends.wait()

    async def _idle(self, lanes: int | None, release: float | None) -> None:
        now = self._clock()
        next_at = await self._outbox.next_due_at(
            max_priority=lanes, exclude=self._sends.busy, channel=Channel.ZALO
        )
        if release is not None:
            next_at = release if next_at is None else min(next_at, release)
        await self._sends.wait_until(next_at, now, IDLE_MAX)

    async def _send(self, m: Queued) -> None:
        try:
            outcome = await self._attempt(m)
            await self._writer.put_until_stored(
                outcome, event="outcome_commit_failed", message=m.id
            )
            log.info(
                "message_outcome",
                message=m.id,
                kind=m.kind,
                channel=outcome.goes_by,
                state=outcome.state,
                reason=outcome.reason,
            )
        except Exception:
            log.exception("message_send_failed", message=m.id, channel=Channel.ZALO)

    async def _attempt(self, m: Queued) -> Outcome:
        now = self._clock()
        if now > m.expires_at:
            return Outcome(m, MessageState.EXPIRED, m.attempts, now, reason="ttl ended unsent")
        if now < self._stopped_until:
            return self._give_up(m, "stopped, the gateway's access was refused")
        try:
            if m.chat_user is not None:
                msg_id = await self._api.send_chat(m.chat_user, m.text)
                return Outcome(m, MessageState.DELIVERED, m.attempts + 1, now, channel_id=msg_id)
            zns = json.loads(m.zns or "{}")
            msg_id = await self._api.send_zns(
                m.phone, zns["template_id"], zns["params"], tracking_id(m.id, m.agency, m.ref)
            )
        except ZnsError as exc:
            return self._refused(m, exc)
        except Exception as exc:
            # A bug or an answer nobody foresaw is a failed attempt, backed off: never a
            # hot loop, and never a notice lost.
            log.exception("zalo_attempt_failed", message=m.id, error=type(exc).__name__)
            return self._again(m, f"error {type(exc).__name__}")
        return self._accepted(m, msg_id)

    def _accepted(self, m: Queued, msg_id: str | None) -> Outcome:
        """Zalo took the notice (or may have: `msg_id` None): its receipt is awaited until
        the fallback timer ends."""
        at = self._clock()
        return Outcome(
            m,
            MessageState.SUBMITTED,
            m.attempts + 1,
            at,
            channel_id=msg_id,
            fallback_at=at + self._fallback_after,
        )

    def _refused(self, m: Queued, exc: ZnsError) -> Outcome:
        reason = f"{exc.code} {exc.message}".strip()
        if exc.action is ZnsAction.UNANSWERED and m.chat_user is None:
            log.warning("zalo_unanswered", message=m.id, reason=reason, then="fallback timer")
            return self._accepted(m, None)
        if exc.action in (ZnsAction.RETRY, ZnsAction.UNANSWERED):
            return self._again(m, reason)
        if exc.action is ZnsAction.STOP:
            self._stopped_until = self._clock() + STOP_PAUSE
            log.error("zalo_stopped", code=exc.code, reason=exc.message, pause=STOP_PAUSE)
        return self._give_up(m, reason)

    def _again(self, m: Queued, reason: str) -> Outcome:
        attempts = m.attempts + 1
        if attempts >= self._retry.max_attempts:
            return self._give_up(m, f"retries exhausted ({attempts}), last: {reason}")
        now = self._clock()
        at = now + Backoff(self._retry.base_delay, self._retry.max_delay).delay(attempts - 1)
        if at > m.expires_at:
            return self._give_up(m, f"ttl ends before next retry, last: {reason}")
        return Outcome(m, MessageState.QUEUED, attempts, at, reason=f"{ZALO_SAYS}{reason}")

    def _give_up(self, m: Queued, reason: str) -> Outcome:
        """Zalo will not carry it: a notice goes by SMS now, with its attempts counted
        afresh; a chat reply, which has no number to go to, fails. The reason starts
        with "zalo: " whatever the cause (the status contract: a notice queued again on
        SMS says it was Zalo that gave it up)."""
        now = self._clock()
        reason = ZALO_SAYS + reason
        if m.chat_user is not None:
            return Outcome(m, MessageState.FAILED, m.attempts + 1, now, reason=reason)
        return Outcome(
            m, MessageState.QUEUED, 0, now, reason=reason, channel=FALLS_BACK_TO[Channel.ZALO]
        )


# Seconds between two runs of the fallback timer's sweep.
FALLBACK_EVERY = 1.0


async def fall_back_unconfirmed(book: ZaloBook, fallback_after: float) -> None:
    """The fallback timer: every second, the Zalo notices unconfirmed past their
    `fallback_at` go by SMS, and those a dead daemon was sending wait for their receipt
    (`ZaloBook.orphaned`) with their timer running. One daemon runs it (its lease)."""
    while True:
        orphaned = await book.orphaned()
        if orphaned:
            log.warning("zalo_unanswered_of_dead_daemon", messages=orphaned, then="fallback timer")
        moved = await book.fall_back(fallback_after)
        if moved:
            log.info("zalo_fell_back", messages=moved, reason="no receipt in time")
        await asyncio.sleep(0 if moved else FALLBACK_EVERY)


async def hand_over_from_zalo(book: ZaloBook) -> int:
    """Zalo is not configured: every message still on it (queued or waiting for its
    receipt, from an earlier configuration) is handed on, so none waits for a channel that
    is gone. Returns how many were."""
    moved = 0
    while found := await book.fall_back_all():
        moved += found
    if moved:
        log.warning("zalo_handed_over", messages=moved, reason="zalo is not configured")
    return moved
