"""Working days, the 17:30 apology run and quiet hours, on dates and times passed in.

The national calendar is the real one (the `holidays` package's Vietnam), checked against
the Government's decisions for the public sector: these tests are the record of what was
verified, and they fail when an upgrade of the package changes a decided day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

import pytest

from gateway.calendar.workdays import NationalYear, QuietHours, WorkCalendar, vietnam_year

VN = ZoneInfo("Asia/Ho_Chi_Minh")
BERLIN = ZoneInfo("Europe/Berlin")
APOLOGY_AT = time(17, 30)
CAL = WorkCalendar()
QUIET = QuietHours(start=time(21, 0), end=time(7, 0))


def vn(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=VN)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def closed(first: date, last: date) -> bool:
    return not any(CAL.is_working_day(d) for d in days(first, last))


def weekends_only(year: int) -> NationalYear:
    return NationalYear(days_off=MappingProxyType({}), working_days=frozenset())


class TestNationalCalendar:
    def test_tet_2026_is_14_to_22_february(self) -> None:
        """The Government's nine days for public servants, 27 Chạp to mùng 6."""
        assert closed(date(2026, 2, 14), date(2026, 2, 22))
        assert CAL.is_working_day(date(2026, 2, 13)) and CAL.is_working_day(date(2026, 2, 23))

    def test_tet_2027_is_4_to_10_february(self) -> None:
        """Lunar new year on Saturday 6/2/2027: 29 Tết (Thursday 4/2) to mùng 5 (10/2)."""
        assert closed(date(2027, 2, 4), date(2027, 2, 10))
        assert CAL.is_working_day(date(2027, 2, 3)) and CAL.is_working_day(date(2027, 2, 11))

    def test_gio_to_2026_on_a_sunday_is_taken_on_monday(self) -> None:
        """10/3 lunar is Sunday 26/4/2026: Monday 27/4 is the day in lieu."""
        assert closed(date(2026, 4, 25), date(2026, 4, 27))
        assert CAL.is_working_day(date(2026, 4, 28))

    def test_gio_to_2027_is_friday_16_april(self) -> None:
        """10/3 lunar is Friday 16/4/2027, a long weekend with no day in lieu."""
        assert closed(date(2027, 4, 16), date(2027, 4, 18))
        assert CAL.is_working_day(date(2027, 4, 15)) and CAL.is_working_day(date(2027, 4, 19))

    def test_30_april_and_1_may_2026_join_the_weekend(self) -> None:
        """Thursday 30/4 to Sunday 3/5/2026."""
        assert closed(date(2026, 4, 30), date(2026, 5, 3))
        assert CAL.is_working_day(date(2026, 4, 29)) and CAL.is_working_day(date(2026, 5, 4))

    def test_1_may_2027_on_a_saturday_is_taken_on_monday(self) -> None:
        """Friday 30/4 to Monday 3/5/2027, Saturday's 1/5 in lieu on Monday."""
        assert closed(date(2027, 4, 30), date(2027, 5, 3))
        assert CAL.is_working_day(date(2027, 5, 4))

    def test_national_day_2026_with_its_adjacent_day_and_a_swapped_monday(self) -> None:
        """2/9/2026 is a Wednesday: 1/9 with it, and Monday 31/8 off for Saturday 22/8
        worked, so Saturday 29/8 to Wednesday 2/9."""
        assert closed(date(2026, 8, 29), date(2026, 9, 2))
        assert CAL.is_working_day(date(2026, 9, 3))
        assert CAL.is_working_day(date(2026, 8, 22))  # a Saturday

    def test_national_day_2027_with_its_adjacent_friday(self) -> None:
        """2/9/2027 is a Thursday: Friday 3/9 with it, to Sunday 5/9."""
        assert closed(date(2027, 9, 2), date(2027, 9, 5))
        assert CAL.is_working_day(date(2027, 9, 1)) and CAL.is_working_day(date(2027, 9, 6))

    def test_days_off_carry_their_vietnamese_names(self) -> None:
        """The names the calendar command prints come from the package, in Vietnamese."""
        year = vietnam_year(2026)

        assert year.days_off[date(2026, 2, 17)] == "Tết Nguyên Đán"
        assert year.days_off[date(2026, 4, 26)] == "Ngày Giỗ Tổ Hùng Vương"
        assert year.days_off[date(2026, 9, 2)] == "Quốc khánh"

    def test_working_days_hold_only_the_year_asked_for(self) -> None:
        """The package's set of weekend working days carries days of other years along."""
        assert vietnam_year(2026).working_days == {date(2026, 8, 22)}
        assert vietnam_year(2027).working_days == frozenset()


class TestWorkingDays:
    @pytest.mark.parametrize(
        ("day", "working"),
        [
            (date(2026, 11, 23), True),  # Monday
            (date(2026, 11, 20), True),  # Friday
            (date(2026, 11, 21), False),  # Saturday
            (date(2026, 11, 22), False),  # Sunday
            (date(2026, 11, 24), False),  # Ngày Văn hóa Việt Nam, a Tuesday
        ],
    )
    def test_weekends_and_holidays_are_not_working_days(self, day: date, working: bool) -> None:
        """A working day is neither a weekend day nor a holiday."""
        assert CAL.is_working_day(day) is working

    def test_a_local_day_off_closes_the_desk(self) -> None:
        """`schedule.holidays` adds a day the province gives: Friday 20/11/2026."""
        local = WorkCalendar(holidays=frozenset({date(2026, 11, 20)}))

        assert not local.is_working_day(date(2026, 11, 20))
        assert local.next_working_day(date(2026, 11, 19)) == date(2026, 11, 23)

    def test_a_working_saturday_from_config_opens_the_desk(self) -> None:
        """`schedule.working_days` makes Saturday 10/1/2026 a working day."""
        local = WorkCalendar(working_days=frozenset({date(2026, 1, 10)}))

        assert local.is_working_day(date(2026, 1, 10))
        assert local.next_working_day(date(2026, 1, 9)) == date(2026, 1, 10)

    def test_a_configured_working_day_wins_over_a_national_holiday(self) -> None:
        """A province that keeps its desk open on 24/11 says so, and the desk is open."""
        local = WorkCalendar(working_days=frozenset({date(2026, 11, 24)}))

        assert local.is_working_day(date(2026, 11, 24))

    def test_a_day_both_off_and_worked_is_rejected(self) -> None:
        """Either list could be meant: neither is guessed."""
        day = frozenset({date(2026, 11, 20)})
        with pytest.raises(ValueError, match="2026-11-20"):
            WorkCalendar(holidays=day, working_days=day)

    def test_next_working_day_is_strictly_after(self) -> None:
        """From a working day, the next working day is the following one, not the day itself."""
        assert CAL.next_working_day(date(2026, 11, 25)) == date(2026, 11, 26)

    def test_next_working_day_from_a_weekend(self) -> None:
        """From Saturday the next working day is Monday."""
        assert CAL.next_working_day(date(2026, 11, 21)) == date(2026, 11, 23)

    def test_configured_weekend_replaces_saturday_and_sunday(self) -> None:
        """An agency open on Saturdays configures only Sunday as weekend."""
        six_days = WorkCalendar(weekend=frozenset({6}))

        assert six_days.next_working_day(date(2026, 11, 20)) == date(2026, 11, 21)

    def test_a_weekend_of_every_day_is_rejected(self) -> None:
        """With no working day left, the next one would be searched for ever."""
        with pytest.raises(ValueError, match="every day"):
            WorkCalendar(weekend=frozenset(range(7)))

    def test_weekend_days_outside_monday_to_sunday_are_rejected(self) -> None:
        """Weekdays are 0 (Monday) to 6 (Sunday); 7 is a configuration slip."""
        with pytest.raises(ValueError, match="0 \\(Monday\\) to 6 \\(Sunday\\)"):
            WorkCalendar(weekend=frozenset({6, 7}))


class TestApologyCovers:
    def test_an_ordinary_run_covers_the_next_day(self) -> None:
        """Wednesday's run apologises for dossiers due on Thursday."""
        assert CAL.apology_covers(date(2026, 11, 25)) == (date(2026, 11, 26),)

    def test_friday_covers_saturday_sunday_and_monday(self) -> None:
        """A dossier due at the weekend is warned too, on the desk's last evening."""
        assert CAL.apology_covers(date(2026, 11, 27)) == (
            date(2026, 11, 28),
            date(2026, 11, 29),
            date(2026, 11, 30),
        )

    @pytest.mark.parametrize("day", [date(2026, 11, 21), date(2026, 11, 22)])
    def test_no_run_on_saturday_or_sunday(self, day: date) -> None:
        """The desk is closed: Friday's run has covered these days."""
        assert CAL.apology_covers(day) == ()

    def test_no_run_on_a_holiday(self) -> None:
        """National Day (Wednesday 2/9) has no run."""
        assert CAL.apology_covers(date(2026, 9, 2)) == ()

    def test_the_friday_before_tet_covers_the_whole_break(self) -> None:
        """Friday 13/2/2026 covers 14/2 to Monday 23/2, Tết's days included."""
        assert CAL.apology_covers(date(2026, 2, 13)) == tuple(
            days(date(2026, 2, 14), date(2026, 2, 23))
        )

    def test_the_eve_of_tet_2027_covers_the_whole_break(self) -> None:
        """Wednesday 3/2/2027 covers 4/2 (29 Tết) to Thursday 11/2."""
        assert CAL.apology_covers(date(2027, 2, 3)) == tuple(
            days(date(2027, 2, 4), date(2027, 2, 11))
        )

    def test_the_friday_before_national_day_covers_the_swapped_monday(self) -> None:
        """Friday 28/8/2026 covers 29/8 to Thursday 3/9: 31/8 is off in exchange for 22/8."""
        assert CAL.apology_covers(date(2026, 8, 28)) == tuple(
            days(date(2026, 8, 29), date(2026, 9, 3))
        )

    def test_a_working_saturday_shortens_fridays_run(self) -> None:
        """Saturday 22/8/2026 is worked: Friday 21/8 covers it alone, and Saturday's run
        covers Sunday and Monday."""
        assert CAL.apology_covers(date(2026, 8, 21)) == (date(2026, 8, 22),)
        assert CAL.apology_covers(date(2026, 8, 22)) == (date(2026, 8, 23), date(2026, 8, 24))

    def test_a_local_working_saturday_from_config_has_its_own_run(self) -> None:
        """With Saturday 10/1/2026 worked locally, Friday 9/1 covers only that Saturday."""
        local = WorkCalendar(working_days=frozenset({date(2026, 1, 10)}))

        assert local.apology_covers(date(2026, 1, 9)) == (date(2026, 1, 10),)
        assert local.apology_covers(date(2026, 1, 10)) == (date(2026, 1, 11), date(2026, 1, 12))

    def test_a_local_day_off_is_covered_by_the_run_before_it(self) -> None:
        """With Friday 20/11/2026 off locally, Thursday 19/11 covers Friday to Monday."""
        local = WorkCalendar(holidays=frozenset({date(2026, 11, 20)}))

        assert local.apology_covers(date(2026, 11, 19)) == tuple(
            days(date(2026, 11, 20), date(2026, 11, 23))
        )
        assert local.apology_covers(date(2026, 11, 20)) == ()

    def test_the_last_run_of_the_year_reads_the_next_years_calendar(self) -> None:
        """Thursday 31/12/2026 covers New Year's Day 2027 and the weekend, to Monday 4/1."""
        assert CAL.apology_covers(date(2026, 12, 31)) == tuple(
            days(date(2027, 1, 1), date(2027, 1, 4))
        )


class TestApologyRunAt:
    def test_run_is_at_the_configured_local_time(self) -> None:
        """17:30 in Asia/Ho_Chi_Minh is 10:30 UTC."""
        run_at = CAL.apology_run_at(date(2026, 11, 25), APOLOGY_AT, VN)

        assert run_at == datetime(2026, 11, 25, 10, 30, tzinfo=UTC)
        assert run_at.tzinfo == VN

    @pytest.mark.parametrize("day", [date(2026, 11, 21), date(2026, 9, 2)])
    def test_no_run_time_on_non_working_days(self, day: date) -> None:
        """A weekend day or a holiday has no run."""
        assert CAL.apology_run_at(day, APOLOGY_AT, VN) is None

    @pytest.mark.parametrize(
        ("day", "utc_hour"),
        [(date(2026, 1, 5), 16), (date(2026, 7, 6), 15)],
        ids=["winter", "summer"],
    )
    def test_run_time_follows_daylight_saving_where_there_is_some(
        self, day: date, utc_hour: int
    ) -> None:
        """17:30 local is 16:30 UTC in a Berlin winter and 15:30 UTC in its summer."""
        cal = WorkCalendar(national=weekends_only)

        assert cal.apology_run_at(day, APOLOGY_AT, BERLIN) == datetime(
            day.year, day.month, day.day, utc_hour, 30, tzinfo=UTC
        )


class TestMissedRuns:
    """Tuesday 1/12/2026 is an ordinary working day; its run is at 17:30."""

    @pytest.mark.parametrize(
        ("now", "owed"),
        [
            (vn(2026, 12, 1, 17, 29), []),  # the scheduler will run it
            (vn(2026, 12, 1, 17, 30), [date(2026, 12, 1)]),  # due now
            (vn(2026, 12, 1, 21, 5), [date(2026, 12, 1)]),  # quiet: goes at 07:00
            (vn(2026, 12, 1, 23, 0), [date(2026, 12, 1)]),
            (vn(2026, 12, 2, 2, 0), [date(2026, 12, 1)]),  # the same night
            (vn(2026, 12, 2, 6, 59), [date(2026, 12, 1)]),
            (vn(2026, 12, 2, 7, 0), []),  # the day has begun
            (vn(2026, 12, 2, 12, 0), []),
        ],
        ids=["17:29", "17:30", "21:05", "23:00", "02:00", "06:59", "07:00", "12:00"],
    )
    def test_a_run_is_owed_from_its_time_to_the_end_of_that_nights_quiet_hours(
        self, now: datetime, owed: list[date]
    ) -> None:
        """Made up the same evening, or at 07:00 when the daemon starts in the night."""
        assert CAL.missed_runs(now, APOLOGY_AT, VN, QUIET) == owed

    def test_without_quiet_hours_the_same_evening_ends_at_midnight(self) -> None:
        """No quiet hours: owed until 23:59, not after midnight."""
        assert CAL.missed_runs(vn(2026, 12, 1, 23, 59), APOLOGY_AT, VN, None) == [date(2026, 12, 1)]
        assert CAL.missed_runs(vn(2026, 12, 2, 0, 0), APOLOGY_AT, VN, None) == []

    def test_a_saturday_night_still_owes_fridays_run(self) -> None:
        """At 02:00 on Saturday, Friday's run (Saturday to Monday) is still owed."""
        assert CAL.missed_runs(vn(2026, 11, 28, 2), APOLOGY_AT, VN, QUIET) == [date(2026, 11, 27)]

    def test_a_saturday_evening_owes_nothing(self) -> None:
        """Saturday has no run of its own, and Friday's ended at 07:00."""
        assert CAL.missed_runs(vn(2026, 11, 28, 19), APOLOGY_AT, VN, QUIET) == []

    @pytest.mark.parametrize("now", [vn(2026, 2, 13, 23), vn(2026, 2, 14, 2)], ids=str)
    def test_the_night_of_tet_eve_owes_the_run_before_tet(self, now: datetime) -> None:
        """Down at 17:30 on Friday 13/2/2026: the whole break's run is owed that night."""
        assert CAL.missed_runs(now, APOLOGY_AT, VN, QUIET) == [date(2026, 2, 13)]

    def test_nothing_is_owed_on_a_holiday_evening(self) -> None:
        """A holiday evening has no run."""
        assert CAL.missed_runs(vn(2026, 9, 2, 19), APOLOGY_AT, VN, QUIET) == []

    def test_utc_input_is_judged_in_the_local_day(self) -> None:
        """12:00 UTC is 19:00 in Vietnam: a missed run that evening."""
        now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

        assert CAL.missed_runs(now, APOLOGY_AT, VN, QUIET) == [date(2026, 12, 1)]

    def test_naive_now_is_refused(self) -> None:
        """A naive time would silently be read in the server's zone."""
        with pytest.raises(ValueError, match="timezone-aware"):
            CAL.missed_runs(datetime(2026, 12, 1, 19), APOLOGY_AT, VN, QUIET)


class TestNextRun:
    def test_before_the_run_time_it_is_today(self) -> None:
        """At 09:00 on a working day the next run is at 17:30 that day."""
        assert CAL.next_run(vn(2026, 11, 25, 9), APOLOGY_AT, VN) == vn(2026, 11, 25, 17, 30)

    def test_at_the_run_time_it_is_the_next_working_day(self) -> None:
        """Strictly after now: the run happening now is not the next one."""
        assert CAL.next_run(vn(2026, 11, 25, 17, 30), APOLOGY_AT, VN) == vn(2026, 11, 26, 17, 30)

    def test_friday_evening_waits_for_monday(self) -> None:
        """After Friday's run the next is Monday's, across the weekend."""
        assert CAL.next_run(vn(2026, 11, 20, 18), APOLOGY_AT, VN) == vn(2026, 11, 23, 17, 30)

    def test_a_working_saturday_has_a_run(self) -> None:
        """After Friday 21/8/2026 the next run is Saturday 22/8's, a day worked."""
        assert CAL.next_run(vn(2026, 8, 21, 18), APOLOGY_AT, VN) == vn(2026, 8, 22, 17, 30)

    def test_tet_is_waited_out(self) -> None:
        """After Friday 13/2 the next run is Monday 23/2."""
        assert CAL.next_run(vn(2026, 2, 13, 18), APOLOGY_AT, VN) == vn(2026, 2, 23, 17, 30)

    def test_utc_input_gives_the_same_instant(self) -> None:
        """11:00 UTC Friday is 18:00 local: next run Monday 17:30 local, 10:30 UTC."""
        now = datetime(2026, 11, 20, 11, 0, tzinfo=UTC)

        assert CAL.next_run(now, APOLOGY_AT, VN) == datetime(2026, 11, 23, 10, 30, tzinfo=UTC)

    def test_across_a_daylight_saving_change(self) -> None:
        """Berlin moves to summer time on Sunday 29/3: Monday's 17:30 is 15:30 UTC."""
        cal = WorkCalendar(national=weekends_only)
        now = datetime(2026, 3, 27, 18, 0, tzinfo=BERLIN)

        assert cal.next_run(now, APOLOGY_AT, BERLIN) == datetime(2026, 3, 30, 15, 30, tzinfo=UTC)


class TestQuietHours:
    @pytest.mark.parametrize(
        ("hour", "minute", "quiet"),
        [
            (20, 59, False),
            (21, 0, True),
            (22, 0, True),
            (0, 0, True),
            (6, 59, True),
            (7, 0, False),
            (12, 0, False),
        ],
    )
    def test_quiet_from_start_up_to_but_excluding_end(
        self, hour: int, minute: int, quiet: bool
    ) -> None:
        """21:00-07:00 wraps midnight: quiet from 21:00 inclusive to 07:00 exclusive."""
        assert QUIET.is_quiet(vn(2026, 11, 24, hour, minute), VN) is quiet

    def test_late_evening_waits_until_next_morning(self) -> None:
        """Queued at 22:00, a notice goes at 07:00 the next day."""
        assert QUIET.release_at(vn(2026, 11, 24, 22), VN) == vn(2026, 11, 25, 7)

    def test_early_morning_waits_until_the_same_morning(self) -> None:
        """Queued at 06:59, a notice goes at 07:00 the same day."""
        assert QUIET.release_at(vn(2026, 11, 25, 6, 59), VN) == vn(2026, 11, 25, 7)

    def test_outside_quiet_hours_a_notice_goes_at_once(self) -> None:
        """Not quiet: the very datetime passed in comes back."""
        at = datetime(2026, 11, 24, 13, 59, tzinfo=UTC)  # 20:59 local

        assert QUIET.release_at(at, VN) is at

    def test_release_crosses_the_year_end(self) -> None:
        """Queued at 22:00 on 31/12, a notice goes at 07:00 on 1/1."""
        assert QUIET.release_at(vn(2026, 12, 31, 22), VN) == vn(2027, 1, 1, 7)

    def test_utc_input_is_judged_in_local_time(self) -> None:
        """14:30 UTC is 21:30 in Vietnam: released at 07:00 local, which is 00:00 UTC."""
        at = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)

        assert QUIET.is_quiet(at, VN)
        assert QUIET.release_at(at, VN) == datetime(2026, 11, 25, 0, 0, tzinfo=UTC)

    def test_utc_input_just_before_seven_local(self) -> None:
        """23:59 UTC is 06:59 the next local day: released at 07:00 that local day."""
        at = datetime(2026, 11, 24, 23, 59, tzinfo=UTC)

        assert QUIET.release_at(at, VN) == vn(2026, 11, 25, 7)

    def test_equal_start_and_end_means_no_quiet_hours(self) -> None:
        """start == end switches quiet hours off rather than covering the whole day."""
        never = QuietHours(start=time(7, 0), end=time(7, 0))

        assert not any(never.is_quiet(vn(2026, 11, 24, h), VN) for h in range(24))

    def test_a_period_within_one_day(self) -> None:
        """A non-wrapping 12:00-13:00 lunch break releases at 13:00 the same day."""
        lunch = QuietHours(start=time(12, 0), end=time(13, 0))

        assert not lunch.is_quiet(vn(2026, 11, 24, 11, 59), VN)
        assert lunch.release_at(vn(2026, 11, 24, 12, 30), VN) == vn(2026, 11, 24, 13)

    def test_release_skipped_by_daylight_saving_moves_forward(self) -> None:
        """Berlin skips 02:00-03:00 on 29/3: a 02:30 end falls to 03:30 CEST, never earlier."""
        night = QuietHours(start=time(22, 0), end=time(2, 30))
        at = datetime(2026, 3, 28, 23, 0, tzinfo=BERLIN)

        assert night.release_at(at, BERLIN) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)

    def test_aware_bounds_are_refused(self) -> None:
        """Bounds are local wall times; a zone on them would contradict the one passed in."""
        with pytest.raises(ValueError, match="naive"):
            QuietHours(start=time(21, 0, tzinfo=UTC), end=time(7, 0))

    def test_naive_input_is_refused(self) -> None:
        """A naive time would silently be read in the server's zone."""
        with pytest.raises(ValueError, match="timezone-aware"):
            QUIET.is_quiet(datetime(2026, 11, 24, 22), VN)
