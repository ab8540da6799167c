"""Fixed, settable time for tests, so that they pass at any hour and on any date.

Quiet hours (21:00-07:00 Asia/Ho_Chi_Minh), the 17:30 apology run and working days all
depend on the time; a rig gives the store, the composer and the sender a `Clock` (or
`lambda: NOON`) instead of the machine's.
"""

from __future__ import annotations

from datetime import datetime, time
from time import monotonic
from zoneinfo import ZoneInfo

from gateway.calendar.workdays import QuietHours

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# Noon on Monday 23/11/2026: a working day, outside quiet hours, before the apology run.
NOON = datetime(2026, 11, 23, 12, 0, tzinfo=TZ).timestamp()
QUIET = QuietHours(time(21, 0), time(7, 0))


def at(hour: int, minute: int = 0, day: int = 23) -> float:
    """The timestamp of `hour:minute` on `day` November 2026, Vietnam time."""
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ).timestamp()


class Clock:
    """A clock a test sets: `clock.now = at(7, 0, day=24)` and the next read says so."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Ticking(Clock):
    """A clock that starts at a fixed time and then runs at the machine's pace (back-offs
    and timers come due), settable forward: `clock.now += 3600` skips an hour."""

    def __init__(self, start: float) -> None:
        super().__init__(start)
        self._origin = monotonic()

    def __call__(self) -> float:
        return self.now + (monotonic() - self._origin)
