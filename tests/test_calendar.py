"""Working days, the 17:30 apology run and quiet hours, on dates and times passed in."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from gateway.calendar import QuietHours, WorkCalendar

VN = ZoneInfo("Asia/Ho_Chi_Minh")
BERLIN = ZoneInfo("Europe/Berlin")
APOLOGY_AT = time(17, 30)

# 2026 as configured in the SPEC, plus the Hùng Kings day (Sunday 26/4, taken on Monday 27/4)
# and a Tết break from Monday 16/2 to Friday 20/2.
HOLIDAYS_2026 = frozenset(
    {
        date(2026, 1, 1),
        *(date(2026, 2, day) for day in range(16, 21)),
        date(2026, 4, 27),
        date(2026, 4, 30),
        date(2026, 5, 1),
        date(2026, 9, 2),
    }
)
CAL = WorkCalendar(holidays=HOLIDAYS_2026)
QUIET = QuietHours(start=time(21, 0), end=time(7, 0))


def vn(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=VN)


class TestWorkingDays:
    @pytest.mark.parametrize(
        ("day", "working"),
        [
            (date(2026, 11, 23), True),  # Monday
            (date(2026, 11, 20), True),  # Friday
            (date(2026, 11, 21), False),  # Saturday
            (date(2026, 11, 22), False),  # Sunday
            (date(2026, 9, 2), False),  # National Day, a Wednesday
            (date(2026, 2, 18), False),  # inside Tết
        ],
    )
    def test_weekends_and_holidays_are_not_working_days(self, day: date, working: bool) -> None:
        """A working day is neither a weekend day nor a configured holiday."""
        assert CAL.is_working_day(day) is working

    def test_next_working_day_is_strictly_after(self) -> None:
        """From a working day, the next working day is the following one, not the day itself."""
        assert CAL.next_working_day(date(2026, 11, 24)) == date(2026, 11, 25)

    def test_next_working_day_from_a_weekend(self) -> None:
        """From Saturday the next working day is Monday."""
        assert CAL.next_working_day(date(2026, 11, 21)) == date(2026, 11, 23)

    def test_configured_weekend_replaces_saturday_and_sunday(self) -> None:
        """An agency open on Saturdays configures only Sunday as weekend."""
        six_days = WorkCalendar(holidays=frozenset(), weekend=frozenset({6}))

        assert six_days.next_working_day(date(2026, 11, 20)) == date(2026, 11, 21)

    def test_a_weekend_of_every_day_is_rejected(self) -> None:
        """With no working day left, the next one would be searched for ever."""
        with pytest.raises(ValueError, match="every day"):
            WorkCalendar(holidays=frozenset(), weekend=frozenset(range(7)))

    def test_weekend_days_outside_monday_to_sunday_are_rejected(self) -> None:
        """Weekdays are 0 (Monday) to 6 (Sunday); 7 is a configuration slip."""
        with pytest.raises(ValueError, match="0 \\(Monday\\) to 6 \\(Sunday\\)"):
            WorkCalendar(holidays=frozenset(), weekend=frozenset({6, 7}))


class TestApologyDueDate:
    def test_an_ordinary_run_covers_the_next_day(self) -> None:
        """Tuesday's run apologises for dossiers due on Wednesday."""
        assert CAL.apology_due_date(date(2026, 11, 24)) == date(2026, 11, 25)

    def test_friday_covers_monday(self) -> None:
        """The desk's evening before Monday is Friday's."""
        assert CAL.apology_due_date(date(2026, 11, 20)) == date(2026, 11, 23)

    @pytest.mark.parametrize("day", [date(2026, 11, 21), date(2026, 11, 22)])
    def test_no_run_on_saturday_or_sunday(self, day: date) -> None:
        """The desk is closed, nobody is due the next morning from its point of view."""
        assert CAL.apology_due_date(day) is None

    def test_no_run_on_a_holiday(self) -> None:
        """National Day (Wednesday 2/9) has no run."""
        assert CAL.apology_due_date(date(2026, 9, 2)) is None

    def test_the_day_before_a_holiday_covers_the_day_after_it(self) -> None:
        """Tuesday 1/9 skips the National Day holiday and covers Thursday 3/9."""
        assert CAL.apology_due_date(date(2026, 9, 1)) == date(2026, 9, 3)

    def test_a_holiday_monday_moves_fridays_run_to_tuesday(self) -> None:
        """Monday 27/4 is off, so Friday 24/4 covers Tuesday 28/4."""
        assert CAL.apology_due_date(date(2026, 4, 24)) == date(2026, 4, 28)

    def test_a_holiday_thursday_and_friday_join_the_weekend(self) -> None:
        """With 30/4 and 1/5 off, Wednesday 29/4 covers Monday 4/5."""
        assert CAL.apology_due_date(date(2026, 4, 29)) == date(2026, 5, 4)

    def test_tet_is_skipped_as_one_block(self) -> None:
        """Friday 13/2 covers Monday 23/2, across a weekend, five Tết days and a weekend."""
        assert CAL.apology_due_date(date(2026, 2, 13)) == date(2026, 2, 23)

    def test_no_run_inside_tet(self) -> None:
        """No run on any day of the Tết break."""
        assert [CAL.apology_due_date(date(2026, 2, d)) for d in range(14, 23)] == [None] * 9


class TestApologyRunAt:
    def test_run_is_at_the_configured_local_time(self) -> None:
        """17:30 in Asia/Ho_Chi_Minh is 10:30 UTC."""
        run_at = CAL.apology_run_at(date(2026, 11, 24), APOLOGY_AT, VN)

        assert run_at == datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
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
        cal = WorkCalendar(holidays=frozenset())

        assert cal.apology_run_at(day, APOLOGY_AT, BERLIN) == datetime(
            day.year, day.month, day.day, utc_hour, 30, tzinfo=UTC
        )


class TestMissedRun:
    def test_a_working_evening_after_the_run_time_makes_it_up(self) -> None:
        """Started at 19:00 on a working day: today's run is still owed to citizens."""
        assert CAL.missed_run(vn(2026, 11, 24, 19), APOLOGY_AT, VN) == date(2026, 11, 24)

    def test_exactly_at_the_run_time_counts(self) -> None:
        """At 17:30 sharp the run is due."""
        assert CAL.missed_run(vn(2026, 11, 24, 17, 30), APOLOGY_AT, VN) == date(2026, 11, 24)

    def test_a_minute_before_midnight_still_makes_it_up(self) -> None:
        """The same evening lasts until midnight."""
        assert CAL.missed_run(vn(2026, 11, 24, 23, 59), APOLOGY_AT, VN) == date(2026, 11, 24)

    def test_before_the_run_time_nothing_is_missed(self) -> None:
        """At 17:00 the run has not been missed, the scheduler will run it."""
        assert CAL.missed_run(vn(2026, 11, 24, 17), APOLOGY_AT, VN) is None

    def test_after_midnight_yesterdays_run_is_not_made_up(self) -> None:
        """At 00:30 the dossiers are due today: an apology for 'tomorrow' would be wrong."""
        assert CAL.missed_run(vn(2026, 11, 25, 0, 30), APOLOGY_AT, VN) is None

    def test_nothing_is_missed_on_saturday(self) -> None:
        """Saturday has no run, so none can be missed, Friday's included."""
        assert CAL.missed_run(vn(2026, 11, 21, 19), APOLOGY_AT, VN) is None

    def test_nothing_is_missed_on_a_holiday(self) -> None:
        """A holiday evening has no run."""
        assert CAL.missed_run(vn(2026, 9, 2, 19), APOLOGY_AT, VN) is None

    def test_utc_input_is_judged_in_the_local_day(self) -> None:
        """12:00 UTC is 19:00 in Vietnam: a missed run that evening."""
        now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

        assert CAL.missed_run(now, APOLOGY_AT, VN) == date(2026, 11, 24)

    def test_utc_input_past_local_midnight_is_the_next_local_day(self) -> None:
        """17:30 UTC on Tuesday is 00:30 Wednesday in Vietnam, before Wednesday's run."""
        now = datetime(2026, 11, 24, 17, 30, tzinfo=UTC)

        assert CAL.missed_run(now, APOLOGY_AT, VN) is None

    def test_naive_now_is_refused(self) -> None:
        """A naive time would silently be read in the server's zone."""
        with pytest.raises(ValueError, match="timezone-aware"):
            CAL.missed_run(datetime(2026, 11, 24, 19), APOLOGY_AT, VN)


class TestNextRun:
    def test_before_the_run_time_it_is_today(self) -> None:
        """At 09:00 on a working day the next run is at 17:30 that day."""
        assert CAL.next_run(vn(2026, 11, 24, 9), APOLOGY_AT, VN) == vn(2026, 11, 24, 17, 30)

    def test_at_the_run_time_it_is_the_next_working_day(self) -> None:
        """Strictly after now: the run happening now is not the next one."""
        assert CAL.next_run(vn(2026, 11, 24, 17, 30), APOLOGY_AT, VN) == vn(2026, 11, 25, 17, 30)

    def test_friday_evening_waits_for_monday(self) -> None:
        """After Friday's run the next is Monday's, across the weekend."""
        assert CAL.next_run(vn(2026, 11, 20, 18), APOLOGY_AT, VN) == vn(2026, 11, 23, 17, 30)

    def test_a_saturday_morning_waits_for_monday(self) -> None:
        """Weekend days have no run at all."""
        assert CAL.next_run(vn(2026, 11, 21, 9), APOLOGY_AT, VN) == vn(2026, 11, 23, 17, 30)

    def test_tet_is_waited_out(self) -> None:
        """After Friday 13/2 the next run is Monday 23/2."""
        assert CAL.next_run(vn(2026, 2, 13, 18), APOLOGY_AT, VN) == vn(2026, 2, 23, 17, 30)

    def test_utc_input_gives_the_same_instant(self) -> None:
        """11:00 UTC Friday is 18:00 local: next run Monday 17:30 local, 10:30 UTC."""
        now = datetime(2026, 11, 20, 11, 0, tzinfo=UTC)

        assert CAL.next_run(now, APOLOGY_AT, VN) == datetime(2026, 11, 23, 10, 30, tzinfo=UTC)

    def test_across_a_daylight_saving_change(self) -> None:
        """Berlin moves to summer time on Sunday 29/3: Monday's 17:30 is 15:30 UTC."""
        cal = WorkCalendar(holidays=frozenset())
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
