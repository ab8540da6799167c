"""`motcua-sms calendar`: one year of the working-day calendar as the daemon sees it.

An operator checks here, before Tết or a bridge holiday, that the desk's days off and
make-up working days are the ones the Government announced and the province added, and
which due dates each 17:30 run will apologise for, without waiting for the evening.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time, timedelta
from types import MappingProxyType

from gateway.calendar.workdays import NationalYear, WorkCalendar

WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
LOCAL_DAY_OFF = "Ngày nghỉ của cơ quan (schedule.holidays)"
LOCAL_WORKING_DAY = "Ngày làm việc (schedule.working_days)"
NATIONAL_WORKING_DAY = "Ngày làm việc bù"

_WIDTH = max(len(w) for w in WEEKDAYS_VI)


def _line(d: date, name: str) -> str:
    return f"{d.isoformat()}  {WEEKDAYS_VI[d.weekday()]:<{_WIDTH}}  {name}"


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def days_off(calendar: WorkCalendar, year: int) -> list[tuple[date, str]]:
    """Each named day the desk is closed in `year`: national holidays (a weekend one too,
    for the day in lieu that follows it) and local days off; plain weekends left out."""
    national = calendar.national(year).days_off
    named = {d: n for d, n in national.items() if not calendar.is_working_day(d)}
    for d in calendar.holidays:
        if d.year == year and not calendar.is_working_day(d):
            named.setdefault(d, LOCAL_DAY_OFF)
    return sorted(named.items())


def working_days(calendar: WorkCalendar, year: int) -> list[tuple[date, str]]:
    """Each day of `year` the desk works though the weekend or a holiday says otherwise."""
    national = calendar.national(year)
    named: dict[date, str] = {}
    for d in national.working_days:
        if calendar.is_working_day(d):
            # The package names the day off in lieu "… (thay cho ngày DD/MM/YYYY)".
            stamp = d.strftime("%d/%m/%Y")
            lieu = [o for o, n in national.days_off.items() if stamp in n]
            named[d] = NATIONAL_WORKING_DAY + (
                f" (cho ngày nghỉ {lieu[0].strftime('%d/%m/%Y')})" if lieu else ""
            )
    for d in calendar.working_days:
        if d.year != year:
            continue
        instead = national.days_off.get(d)
        closed = d.weekday() in calendar.weekend and d not in national.working_days
        if instead is not None:
            named[d] = f"{LOCAL_WORKING_DAY}, thay vì: {instead}"
        elif closed:
            named[d] = LOCAL_WORKING_DAY
    return sorted(named.items())


def _weekends_only(year: int) -> NationalYear:
    return NationalYear(days_off=MappingProxyType({}), working_days=frozenset())


def unusual_runs(calendar: WorkCalendar, year: int) -> list[tuple[date, tuple[date, ...]]]:
    """Each run of `year` whose due dates differ from an ordinary week's, with those dates.

    An ordinary week's runs (the next day; on the last day before the weekend, up to the
    first day after it) would bury the few that matter: the eve of Tết, of a bridge
    holiday, a Saturday worked, and the Friday before it that covers only that Saturday.
    """
    ordinary = replace(
        calendar, holidays=frozenset(), working_days=frozenset(), national=_weekends_only
    )
    runs = []
    for d in _days(date(year, 1, 1), date(year, 12, 31)):
        covers = calendar.apology_covers(d)
        if covers and covers != ordinary.apology_covers(d):
            runs.append((d, covers))
    return runs


def render(calendar: WorkCalendar, year: int, apology_at: time) -> str:
    """The listing: days off, make-up working days, then the runs unlike an ordinary week's."""
    at = f"{apology_at.hour:02d}:{apology_at.minute:02d}"
    weekend = ", ".join(WEEKDAYS_VI[d] for d in sorted(calendar.weekend)) or "none"
    out = [f"Days off in {year} (besides the weekend: {weekend}):"]
    out += [_line(d, name) for d, name in days_off(calendar, year)]
    out += ["", f"Make-up working days in {year}:"]
    out += [_line(d, name) for d, name in working_days(calendar, year)] or ["(none)"]
    out += ["", f"Apology runs at {at} unlike an ordinary week's, and the due dates they cover:"]
    for d, covers in unusual_runs(calendar, year):
        span = covers[0].isoformat()
        if len(covers) > 1:
            span += f" .. {covers[-1].isoformat()} ({len(covers)} days)"
        out.append(_line(d, f"-> {span}"))
    out += [
        "Every other run covers the next day; the last one before the weekend covers the",
        "weekend and the day after it.",
    ]
    return "\n".join(out) + "\n"
