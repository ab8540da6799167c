"""The 17:30 apology: each working day, for unfinished dossiers due before the desk reopens.

A run covers every due date after its day up to and including the next working day, so
Friday's run covers Saturday, Sunday and Monday, and the run before Tết the whole break.
Sent once per dossier per due date (the message ref is `apology:<receipt>:<due date>`). A
run missed while the daemon was down is made up at start-up the same evening, or at the end
of the night's quiet hours when the daemon starts inside them, with the missed run's own due
dates. A reload (SIGHUP) that changes the calendar takes effect at once: the next run is
found again, and a run the new calendar owes is made up.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import structlog

from gateway.calendar.workdays import QuietHours, WorkCalendar
from gateway.compose.composer import Composer
from gateway.domain.dossier import DossierRow
from gateway.domain.message import NewMessage, Priority
from gateway.settings.agencies import AgencyConfig
from gateway.settings.schedule import ScheduleConfig
from gateway.store.apologies import ApologyRuns

log = structlog.get_logger("gateway.compose.apology")

# Dossiers composed between two turns of the event loop (a few ms of work).
YIELD_EVERY = 50
# Dossiers read, composed and queued together: one read by the due-date index, one
# transaction, committed by the store's thread while the next slice is composed.
SLICE = 500


@dataclass(frozen=True, slots=True)
class ApologySettings:
    """What the apology run reads of the configuration (built by the composition root)."""

    agencies: Mapping[str, AgencyConfig]  # who sends apologies at all
    schedule: ScheduleConfig  # the working-day calendar, `apology_at`, quiet hours
    tz: ZoneInfo  # the office's local time, which `apology_at` is in


def _quiet(schedule: ScheduleConfig) -> QuietHours | None:
    quiet = schedule.quiet_hours
    return QuietHours(*quiet) if quiet else None


def covered_span(dates: tuple[date, ...]) -> str:
    """The covered dates as stored with the run: one date, or `FIRST..LAST` (consecutive)."""
    first, last = dates[0].isoformat(), dates[-1].isoformat()
    return first if first == last else f"{first}..{last}"


class Apologies:
    def __init__(
        self,
        runs: ApologyRuns,
        composer: Composer,
        settings: ApologySettings,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._runs = runs
        self._composer = composer
        self._settings = settings
        self._clock = clock
        self._sleep = sleep
        self._calendar = WorkCalendar.from_schedule(settings.schedule)
        self._quiet = _quiet(settings.schedule)
        # Set by reconfigure: the run loop stops waiting and looks at the calendar again.
        self._changed = asyncio.Event()

    def reconfigure(self, settings: ApologySettings) -> None:
        """Take a reloaded configuration (SIGHUP): agencies, templates, and the calendar."""
        calendar = WorkCalendar.from_schedule(settings.schedule)
        self._settings = settings
        self._quiet = _quiet(settings.schedule)
        if calendar != self._calendar:
            self._calendar = calendar
            log.info(
                "calendar_reloaded",
                holidays=[d.isoformat() for d in sorted(calendar.holidays)],
                working_days=[d.isoformat() for d in sorted(calendar.working_days)],
                weekend=sorted(calendar.weekend),
            )
            self._changed.set()

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    async def run_day(self, day: date) -> int:
        """Queue the apologies of `day`'s run; returns how many were new. Idempotent.

        Slice by slice (`SLICE` dossiers): the next slice is read while this one is
        composed, and a slice is committed while the next one is composed, so the store's
        thread and the event loop work at once and no more than two slices are ever held.
        The run is marked done in the last transaction, after every slice is queued: a
        run cut short (a crash) is made up again, and the refs dedupe what was queued."""
        covers = self._calendar.apology_covers(day)
        if not covers:
            return 0
        queued = 0
        writing: asyncio.Task[int] | None = None
        try:
            for due in covers:
                when = due.isoformat()
                reading = asyncio.create_task(self._runs.open_dossiers_due(when, limit=SLICE))
                while True:
                    page, after = await reading
                    if not page:
                        break
                    # Asked before this slice's commit, so read while it is composed.
                    reading = asyncio.create_task(
                        self._runs.open_dossiers_due(when, after=after, limit=SLICE)
                    )
                    messages = await self._compose(page, when)
                    if writing is not None:
                        queued += await writing
                    writing = asyncio.create_task(self._runs.queue_apologies(messages))
            if writing is not None:
                queued += await writing
                writing = None
        finally:
            if writing is not None:  # cancelled or failed: wait for the slice in flight
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.shield(writing)
        span = covered_span(covers)
        await self._runs.record_apology_run(day.isoformat(), span, [], queued)
        log.info(
            "apology_run",
            day=day.isoformat(),
            due_from=covers[0].isoformat(),
            due_to=covers[-1].isoformat(),
            queued=queued,
        )
        return queued

    async def _compose(self, dossiers: list[DossierRow], due: str) -> list[NewMessage]:
        """The apologies of one slice, giving the event loop a turn every YIELD_EVERY:
        meanwhile MO replies, receipts and enquire_link answers go on."""
        messages: list[NewMessage] = []
        for n, dossier in enumerate(dossiers, start=1):
            if n % YIELD_EVERY == 0:
                await asyncio.sleep(0)
            agency = self._settings.agencies.get(dossier.agency)
            if agency is None or "apology" not in agency.notices:
                continue
            messages.append(
                self._composer.notice(
                    "apology",
                    dossier,
                    event_id=None,
                    ref=f"apology:{dossier.receipt_key}:{due}",
                    priority=Priority.APOLOGY,
                )
            )
        return messages

    async def catch_up(self) -> None:
        """Make up each run still owed (see WorkCalendar.missed_runs) that has not run."""
        cfg = self._settings
        owed = self._calendar.missed_runs(self._now(), cfg.schedule.apology_at, cfg.tz, self._quiet)
        for day in owed:
            if not await self._runs.apology_ran(day.isoformat()):
                log.warning("apology_run_missed_catching_up", day=day.isoformat())
                await self.run_day(day)

    async def run(self) -> None:
        """Catch up, then run at every `apology_at` on working days, until cancelled."""
        while True:
            # Cleared before the calendar is read: a reload from here on is not missed.
            self._changed.clear()
            await self.catch_up()
            cfg = self._settings
            at = self._calendar.next_run(self._now(), cfg.schedule.apology_at, cfg.tz)
            if not await self._wait_until(at):
                continue  # the calendar changed: look again
            day = at.astimezone(cfg.tz).date()
            if not await self._runs.apology_ran(day.isoformat()):
                await self.run_day(day)

    async def _wait_until(self, at: datetime) -> bool:
        """Sleep until `at`; False as soon as the calendar changes instead."""
        sleeper = asyncio.ensure_future(self._sleep(max(0.0, at.timestamp() - self._clock())))
        changed = asyncio.create_task(self._changed.wait())
        try:
            await asyncio.wait([sleeper, changed], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, changed):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        return not self._changed.is_set()
