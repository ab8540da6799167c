"""The `schedule:` section: when apologies go, when notices wait, which days are worked.

Times are local to the configuration's `timezone`. Vietnam's public holidays are built in
(gateway.calendar.workdays): `holidays` adds local days off and `working_days` local
make-up working days (a Saturday worked), both winning over the national calendar.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from pydantic import ConfigDict, model_validator
from pydantic_core import PydanticCustomError

from gateway.settings.values import below, describe, items, refuse, rule, time_of_day

_QUIET_HOURS = re.compile(r"\s*(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*")
_DATE_RANGE = re.compile(r"\s*(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})\s*")
_OFF_WORDS = frozenset({"off", "none", "no", "false"})
_MAX_HOLIDAY_RANGE = timedelta(days=31)
_WEEKDAYS = {
    name: number
    for number, names in enumerate(
        (
            ("mon", "monday"),
            ("tue", "tuesday"),
            ("wed", "wednesday"),
            ("thu", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        )
    )
    for name in names
}


def _quiet_hours(value: Any) -> tuple[time, time] | None:
    """Quiet hours as "HH:MM-HH:MM", wrapping midnight when start > end; off (or YAML's
    false) for none."""
    if value is None or value is False:
        return None
    if isinstance(value, tuple):
        return value
    if isinstance(value, str) and value.strip().lower() in _OFF_WORDS:
        return None
    expected = 'must be "HH:MM-HH:MM" (e.g. "21:00-07:00") or off'
    if isinstance(value, Mapping | list):
        refuse(f"must be a single value, got {describe(value)}")
    if not isinstance(value, str):
        refuse(f"{expected}, got {describe(value)}")
    match = _QUIET_HOURS.fullmatch(value)
    if match is None:
        refuse(f"{expected}, got {value!r}")
    bounds = []
    for part in match.groups():
        try:
            bounds.append(time_of_day(part))
        except PydanticCustomError:
            refuse(f"{part!r} is not a time of day (00:00 to 23:59)")
    start, end = bounds
    if start == end:
        refuse("start and end are the same: write off to have no quiet hours")
    return start, end


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        refuse(f'must be a date as "YYYY-MM-DD", got {text!r}')


def _days(value: Any) -> set[date]:
    """One date, or an inclusive range of at most 31 days (Tết)."""
    if isinstance(value, datetime):
        refuse(f"must be a date without a time, got {value.isoformat()!r}")
    if isinstance(value, date):
        return {value}
    if not isinstance(value, str):
        refuse(
            'must be a date "YYYY-MM-DD" or a range "YYYY-MM-DD..YYYY-MM-DD", '
            f"got {describe(value)}"
        )
    span = _DATE_RANGE.fullmatch(value)
    if span is None:
        return {_iso_date(value.strip())}
    first, last = _iso_date(span[1]), _iso_date(span[2])
    if not first <= last <= first + _MAX_HOLIDAY_RANGE:
        refuse("a range must run forwards and span at most 31 days")
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}


def _dates(value: Any) -> frozenset[date]:
    days: set[date] = set()
    for i, item in enumerate(items(value, 'dates "YYYY-MM-DD"')):
        days |= below(_days, item, i)
    return frozenset(days)


def _weekday(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        return int(value)
    if isinstance(value, str) and value.strip().lower() in _WEEKDAYS:
        return _WEEKDAYS[value.strip().lower()]
    refuse(f"must be a weekday, 0 (Monday) to 6 (Sunday) or a name, got {describe(value)}")


def _weekend(value: Any) -> frozenset[int]:
    listed = items(value, "weekdays (0=Monday … 6=Sunday, or sat, sun)")
    days = frozenset(below(_weekday, item, i) for i, item in enumerate(listed))
    if len(days) == 7:
        refuse("covers every day of the week: no working day left")
    return days


@dataclass(frozen=True, slots=True)
class ScheduleConfig:
    """When apologies go and when notices wait. Times are local to `Config.timezone`.

    `quiet_hours` is (start, end), wrapping midnight when start > end; None means none.
    `weekend` holds weekday numbers, Monday=0.
    """

    __pydantic_config__ = ConfigDict(extra="forbid")

    apology_at: time = time(17, 30)
    quiet_hours: tuple[time, time] | None = (time(21, 0), time(7, 0))
    holidays: frozenset[date] = frozenset()
    working_days: frozenset[date] = frozenset()
    weekend: frozenset[int] = frozenset({5, 6})

    _apology_at = rule("apology_at", check=time_of_day)
    _quiet = rule("quiet_hours", check=_quiet_hours)
    _days = rule("holidays", "working_days", check=_dates)
    _weekend = rule("weekend", check=_weekend)

    @model_validator(mode="after")
    def _consistent(self) -> ScheduleConfig:
        if both := sorted(self.holidays & self.working_days):
            refuse(
                f"{both[0].isoformat()} is also in schedule.holidays: a day is either off "
                "or worked",
                "working_days",
            )
        return self
