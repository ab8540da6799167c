"""Working days, the apology run's timing, and quiet hours.

Pure functions of the configuration and a time passed in: the scheduler asks, these answer,
and tests need no clock. Everything is computed as local wall time in the configured zone and
handed back as aware datetimes, so a caller may compare them with `now` in any zone.

Vietnam's days off come from the `holidays` package (its `Vietnam` calendar): the lunar
holidays (Tết Nguyên Đán, Giỗ Tổ Hùng Vương) computed for any year, the days off in lieu
("nghỉ bù") of a holiday on a weekend, and the Government's swaps for the public sector (a
bridge day off, a Saturday worked in exchange). The configuration only adds local days off
and local make-up working days, and those win over the national calendar.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from gateway.calendar.national import vietnam_calendar

if TYPE_CHECKING:
    from gateway.settings.config import ScheduleConfig

_DAY = timedelta(days=1)
_MIDNIGHT = time(0, 0)


def _require_aware(value: datetime, name: str) -> None:
    # A naive datetime would be read as the server's own zone by astimezone(), which is
    # often UTC on a province server: seven hours off, silently.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")


def local_at(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The aware instant at which local clocks in `tz` show `at` on `day`.

    Round-tripping through UTC resolves a wall time that a DST jump skips to the instant
    just after the jump (02:30 on a spring-forward night becomes 03:30) instead of keeping
    a datetime that never exists; a repeated wall time takes its first occurrence.
    """
    naive_wall = datetime.combine(day, at.replace(tzinfo=None, fold=0))
    return naive_wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)


@dataclass(frozen=True, slots=True)
class NationalYear:
    """One year of a national calendar.

    Args:
        days_off: each day off with its Vietnamese name, weekend days included when a
            holiday falls on one (Giỗ Tổ on Sunday 26/4/2026, whose day in lieu follows).
        working_days: weekend days worked in exchange for a bridge day off.
    """

    days_off: Mapping[date, str]
    working_days: frozenset[date]


@lru_cache(maxsize=64)
def vietnam_year(year: int) -> NationalYear:
    """Vietnam's public holidays of `year` as the public sector keeps them.

    The package's swaps may span a year end (a Monday 31/12 off for a Saturday 5/1 worked),
    so the years either side are computed too and only `year`'s days kept.
    """
    national = vietnam_calendar()(years=(year - 1, year, year + 1), language="vi")
    return NationalYear(
        days_off=MappingProxyType(
            {d: name for d, name in sorted(national.items()) if d.year == year}
        ),
        # The package's set also holds days of years never asked for: keep `year`'s.
        working_days=frozenset(d for d in national.weekend_workdays if d.year == year),
    )


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """Which days a one-stop desk works, and hence when apologies are sent and for what.

    Args:
        holidays: local days off (`schedule.holidays`), added to the national ones.
        working_days: local make-up working days (`schedule.working_days`, e.g. a Saturday
            worked): open whatever the weekend or the national calendar says.
        weekend: weekday numbers off every week, Monday=0.
        national: the national calendar, one year at a time.
    """

    holidays: frozenset[date] = frozenset()
    working_days: frozenset[date] = frozenset()
    weekend: frozenset[int] = frozenset({5, 6})
    national: Callable[[int], NationalYear] = field(default=vietnam_year, compare=False)

    def __post_init__(self) -> None:
        if not set(self.weekend) <= set(range(7)):
            raise ValueError(f"weekend days must be 0 (Monday) to 6 (Sunday), got {self.weekend}")
        # With every weekday off, next_working_day would never return.
        if len(set(self.weekend)) == 7:
            raise ValueError("weekend covers every day of the week: no working day left")
        if both := sorted(self.holidays & self.working_days):
            raise ValueError(f"both a day off and a working day: {both[0].isoformat()}")

    @classmethod
    def from_schedule(cls, schedule: ScheduleConfig) -> WorkCalendar:
        """The calendar of a `schedule` configuration section, on Vietnam's national one."""
        return cls(
            holidays=schedule.holidays,
            working_days=schedule.working_days,
            weekend=schedule.weekend,
        )

    def is_working_day(self, d: date) -> bool:
        """True when the desk is open on `d`.

        A configured working day is open, a configured day off closed; otherwise a national
        day off is closed, and a weekend day is open only when the Government made it a
        working day in exchange for a bridge day.
        """
        if d in self.working_days:
            return True
        if d in self.holidays:
            return False
        year = self.national(d.year)
        if d in year.days_off:
            return False
        return d.weekday() not in self.weekend or d in year.working_days

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after `d`, whatever `d` itself is."""
        d += _DAY
        while not self.is_working_day(d):
            d += _DAY
        return d

    def apology_covers(self, run_day: date) -> tuple[date, ...]:
        """The due dates whose dossiers the run on `run_day` apologises for, in order.

        Citizens are warned the evening before the desk would have handed them a result,
        and the desk's evening before Monday is Friday: so a run covers every date after
        `run_day` up to and including the next working day (Friday: Saturday, Sunday and
        Monday), and a dossier due on a day the desk is closed is warned too. There is no
        run (an empty tuple) on a day the desk is closed.
        """
        if not self.is_working_day(run_day):
            return ()
        last = self.next_working_day(run_day)
        return tuple(run_day + n * _DAY for n in range(1, (last - run_day).days + 1))

    def apology_run_at(self, day: date, at: time, tz: ZoneInfo) -> datetime | None:
        """When the run of `day` happens (local `at` in `tz`), None on non-working days."""
        if not self.is_working_day(day):
            return None
        return local_at(day, at, tz)

    def missed_runs(
        self, now: datetime, at: time, tz: ZoneInfo, quiet: QuietHours | None
    ) -> list[date]:
        """The run days whose time has passed and whose make-up is still owed at `now`.

        A run is made up the same evening, or, when the night's quiet hours have begun, at
        their end the next morning: until then the citizens due the next day have not set
        out for the desk, and the apology still tells them not to. Later than that the day
        has begun and the next run follows its own course. So a run is owed from its time
        until the midnight after it, extended to the end of the quiet hours in force at that
        midnight. The run keeps its own due dates whenever it is made up. Whether a run
        already happened is for the caller (the store) to say.
        """
        _require_aware(now, "now")
        today = now.astimezone(tz).date()
        owed = []
        for day in (today - _DAY, today):
            run_at = self.apology_run_at(day, at, tz)
            if run_at is not None and run_at <= now < self.make_up_until(day, tz, quiet):
                owed.append(day)
        return owed

    @staticmethod
    def make_up_until(day: date, tz: ZoneInfo, quiet: QuietHours | None) -> datetime:
        """The end of the time in which `day`'s missed run is still made up: the midnight
        after `day`, or the end of the quiet hours that midnight falls in."""
        midnight = local_at(day + _DAY, _MIDNIGHT, tz)
        return midnight if quiet is None else quiet.release_at(midnight, tz)

    def next_run(self, now: datetime, at: time, tz: ZoneInfo) -> datetime:
        """The next apology run strictly after `now`, as an aware datetime in `tz`."""
        _require_aware(now, "now")
        day = now.astimezone(tz).date()
        while True:
            run_at = self.apology_run_at(day, at, tz)
            if run_at is not None and run_at > now:
                return run_at
            day += _DAY


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local hours during which notices wait; MO replies do not consult this.

    Args:
        start: local time quiet hours begin (inclusive).
        end: local time they end (exclusive); before `start` when they wrap midnight.
            `start == end` means no quiet hours at all.
    """

    start: time
    end: time

    def __post_init__(self) -> None:
        # The bounds are local wall times in whatever zone the caller passes; a zone fixed
        # on them here would contradict it.
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("quiet hours are local wall times: start and end must be naive")

    def is_quiet(self, at: datetime, tz: ZoneInfo) -> bool:
        """True when local clocks in `tz` are within [start, end) at `at`."""
        _require_aware(at, "at")
        now = at.astimezone(tz).time()
        start, end = self.start, self.end
        if start == end:
            return False
        if start < end:
            return start <= now < end
        return now >= start or now < end

    def release_at(self, at: datetime, tz: ZoneInfo) -> datetime:
        """When a notice queued at `at` may go: `at` itself, or the end of these quiet hours.

        During a wrapping period the end is tomorrow's `end` before midnight and today's
        after it, so a notice queued at 22:00 goes at 07:00 the next morning, one queued at
        06:59 at 07:00 the same morning.
        """
        if not self.is_quiet(at, tz):
            return at
        local = at.astimezone(tz)
        day = local.date()
        if self.start > self.end and local.time() >= self.start:
            day += _DAY
        return local_at(day, self.end, tz)
