"""The mail sender: takes due e-mail copies of notices ("letters") from the store, sends each
through the `email:` section's SMTP server, records what became of it.

A letter is a copy, never a fallback: its states are its own, and nothing here touches
the notice it copies. What the server answers decides what follows
(`gateway.mail.smtp.MailError`):

- accepted: `delivered` (the agency's mail server has it; bounces are not followed).
- FAIL (a 5xx to MAIL FROM, RCPT TO or DATA): `failed`, reason `email: <code> <reason>`.
- RETRY (the server unreachable, a 4xx, a refused login, TLS failing), and any error
  nobody foresaw: queued again after the one back-off (`gateway.backoff`), attempts
  counted; `failed` after `retry.max_attempts`, `expired` when the next try would come
  after the letter's TTL. Never a hot loop, never a crash of the loop.
- past its TTL before it went: `expired`, "ttl ended unsent".

At most `window` letters are in flight, each held until its outcome is committed, so a
crash sends at most that many twice (with the same Message-ID, which a receiving system
may dedupe on). Logs carry the letter's id, agency and kind, never its address or body.
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import structlog

from gateway.backoff import Backoff
from gateway.calendar.workdays import QuietHours
from gateway.domain.letter import LetterOutcome, QueuedLetter
from gateway.domain.states import MessageState
from gateway.mail.letter import build
from gateway.mail.smtp import MailAction, MailError, MailSender
from gateway.outbound.inflight import InFlight, Quiet
from gateway.settings.retry import RetryConfig
from gateway.store.batch import Batcher
from gateway.store.emails import Letters

__all__ = ["MailOut"]

log = structlog.get_logger("gateway.outbound.mail")

# Longest idle wait before the store is asked again, seconds. The store's "queued" signal
# belongs to the SMS sender (it clears it when it reads), so this sender asks on its own:
# a read of an index each time, and at most this long before a new letter goes.
IDLE_MAX = 1.0
# Pause after the store could not be read, seconds.
FETCH_RETRY = 1.0


class MailOut:
    """Sends the store's queued letters through `mail`, `window` at a time."""

    def __init__(
        self,
        letters: Letters,
        mail: MailSender,
        retry: RetryConfig,
        *,
        clock: Callable[[], float] = time.time,
        window: int = 2,
        quiet: QuietHours | None = None,
        tz: ZoneInfo | None = None,
    ) -> None:
        self._letters = letters
        self._mail = mail
        self._retry = retry
        self._backoff = Backoff(retry.base_delay, retry.max_delay)
        self._clock = clock
        self._window = window
        self._quiet = Quiet(quiet, tz, clock)
        self._sends = InFlight(window, "mail.send")

    async def run(self) -> None:
        """Send until cancelled."""
        writer: Batcher[LetterOutcome] = Batcher(
            self._letters.record, max_items=self._window, max_wait=0.005
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
        if free <= 0:
            await self._sends.wait()
            return
        release = self._quiet.until()
        if release is not None:
            # Quiet hours hold for a retry as for a first send (due at 07:00 when made at
            # night): a phone shows an e-mail as it shows an SMS.
            await asyncio.sleep(min(IDLE_MAX, max(0.0, release - self._clock())))
            return
        tenure = self._letters.tenure
        if not tenure.holds():
            # Stalled past its lease: another daemon may have taken its claims.
            await tenure.regained(IDLE_MAX)
            return
        try:
            mark = tenure.clock()
            due = await self._letters.due(free, exclude=sorted(self._sends.busy))
        except Exception as exc:
            log.error("mail_fetch_failed", error=type(exc).__name__, retry_in=FETCH_RETRY)
            await asyncio.sleep(FETCH_RETRY)
            return
        if not tenure.held_since(mark):
            return  # fetched while its claims had lapsed: fetched again after a beat
        for letter in due:
            self._sends.start(letter.id, self._send(letter))
        if not due:
            await self._idle()

    async def _idle(self) -> None:
        """Wait for the next letter due, a finished send, or IDLE_MAX, whichever is first."""
        try:
            next_at = await self._letters.next_due_at(exclude=sorted(self._sends.busy))
        except Exception as exc:
            log.error("mail_fetch_failed", error=type(exc).__name__, retry_in=FETCH_RETRY)
            next_at = None
        await self._sends.wait_until(next_at, self._clock(), IDLE_MAX)

    async def _send(self, letter: QueuedLetter) -> None:
        try:
            outcome = await self._attempt(letter)
            await self._writer.put_until_stored(
                outcome, event="letter_commit_failed", letter=letter.id
            )
            log.info(
                "letter_outcome",
                letter=letter.id,
                agency=letter.agency,
                kind=letter.kind,
                state=outcome.state.value,
                attempts=outcome.attempts,
                reason=outcome.reason,
            )
        except Exception as exc:
            _log_unexpected("letter_send_failed", letter.id, exc)

    async def _attempt(self, letter: QueuedLetter) -> LetterOutcome:
        now = self._clock()
        if now > letter.expires_at:
            return LetterOutcome(
                letter, MessageState.EXPIRED, letter.attempts, now, reason="ttl ended unsent"
            )
        try:
            message = build(
                sender=letter.sender,
                to=letter.address,
                subject=letter.subject,
                body=letter.body,
                qr=letter.qr,
                message_id=f"{letter.agency}.{letter.ref}",
                date=datetime.fromtimestamp(now, UTC),
            )
        except ValueError as exc:
            # An address or From that no send can make usable (intake refuses bad
            # addresses first): failed, with the reason, which names no address.
            return self._final(letter, MessageState.FAILED, f"email: {exc}")
        try:
            await self._mail.send(message)
        except MailError as exc:
            reason = " ".join(str(x) for x in ("email:", exc.code, exc.reason) if x is not None)
            if exc.action is MailAction.FAIL:
                return self._final(letter, MessageState.FAILED, reason)
            return self._again(letter, reason)
        except Exception as exc:
            # A bug or an answer nobody foresaw is a failed attempt, backed off: never a
            # hot loop, and never a letter lost.
            _log_unexpected("mail_attempt_failed", letter.id, exc)
            return self._again(letter, f"email: error {type(exc).__name__}")
        return self._final(letter, MessageState.DELIVERED, None)

    def _final(
        self, letter: QueuedLetter, state: MessageState, reason: str | None
    ) -> LetterOutcome:
        return LetterOutcome(letter, state, letter.attempts + 1, self._clock(), reason=reason)

    def _again(self, letter: QueuedLetter, reason: str) -> LetterOutcome:
        """Queued again after the back-off, or final when the tries or the TTL ran out."""
        attempts = letter.attempts + 1
        if attempts >= self._retry.max_attempts:
            return LetterOutcome(
                letter,
                MessageState.FAILED,
                attempts,
                self._clock(),
                reason=f"retries exhausted ({attempts}), last: {reason}",
            )
        now = self._clock()
        at = now + self._backoff.delay(attempts - 1)
        if at > letter.expires_at:
            return LetterOutcome(
                letter,
                MessageState.EXPIRED,
                attempts,
                now,
                reason=f"ttl ends before next retry, last: {reason}",
            )
        return LetterOutcome(letter, MessageState.QUEUED, attempts, at, reason=reason)


def _log_unexpected(event: str, letter: int, exc: BaseException) -> None:
    """The error's type and where it was raised, not its text nor the traceback's lines,
    which may quote the letter (its address, its body)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else None
    log.error(event, letter=letter, error=type(exc).__name__, where=where)
