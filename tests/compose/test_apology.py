"""The daily apology: which dossiers, which days, once each, and the make-up run."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gateway.app import apology_settings, composer_settings
from gateway.compose.apology import SLICE, YIELD_EVERY, Apologies
from gateway.compose.composer import Composer
from gateway.domain.dossier import DossierRow
from gateway.settings.config import Config, default_config
from gateway.store.store import Store
from tests.support.store_reads import db_rows, query_plan
from tests.support.wait import eventually

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class Clock:
    def __init__(self, at: datetime) -> None:
        self.now = at.timestamp()

    def __call__(self) -> float:
        return self.now

    def set(self, at: datetime) -> None:
        self.now = at.timestamp()


def dossier(receipt: str, due: str, status: str = "processing", agency: str = "SCT") -> DossierRow:
    return DossierRow(
        receipt_key=receipt.upper(),
        receipt_no=receipt,
        agency=agency,
        procedure="Cấp phép",
        procedure_code=None,
        phone="0905123456",
        step="Thẩm định hồ sơ",
        status=status,
        due_date=due,
        same_day=False,
        occurred_at="2026-11-20T10:00:00+07:00",
        finished_on=None,
    )


@pytest.fixture
async def setup(tmp_path, store_location):
    clock = Clock(datetime(2026, 11, 27, 17, 30, tzinfo=TZ))  # a Friday
    config = default_config()
    async with Store.open(store_location, clock=clock) as store:
        apologies = Apologies(
            store.apologies,
            Composer(composer_settings(config), clock=clock),
            apology_settings(config),
            clock=clock,
        )
        yield store, apologies, clock


async def apology_texts(store: Store) -> list[str]:
    rows = await db_rows(store, "SELECT receipt_no, text FROM messages WHERE kind = 'apology'")
    return sorted(r[0] for r in rows)


async def test_friday_run_covers_saturday_sunday_and_monday(setup):
    """Friday 27/11 apologises for dossiers due Saturday 28/11 to Monday 30/11, not after."""
    store, apologies, _ = setup
    await store.dossiers.record_intake(
        dossiers=[
            dossier("A27", "2026-11-27"),
            dossier("A28", "2026-11-28"),
            dossier("A29", "2026-11-29"),
            dossier("A30", "2026-11-30"),
            dossier("A01", "2026-12-01"),
        ]
    )

    queued = await apologies.run_day(date(2026, 11, 27))

    assert queued == 3
    assert await apology_texts(store) == ["A28", "A29", "A30"]


async def test_each_covered_dossier_is_told_its_own_due_date(setup):
    """The ref and the text carry the dossier's due date, not the run's last date."""
    store, apologies, _ = setup
    await store.dossiers.record_intake(
        dossiers=[dossier("D1", "2026-11-28"), dossier("D2", "2026-11-30")]
    )

    await apologies.run_day(date(2026, 11, 27))

    rows = await db_rows(store, "SELECT ref, text FROM messages ORDER BY ref")
    assert [r[0] for r in rows] == ["apology:D1:2026-11-28", "apology:D2:2026-11-30"]
    assert "28/11/2026" in rows[0][1] and "30/11/2026" in rows[1][1]


async def test_the_run_before_tet_covers_the_whole_break(setup):
    """Friday 13/2/2026: every dossier due 14/2 to Monday 23/2 is apologised for."""
    store, apologies, _ = setup
    due = [f"2026-02-{d}" for d in range(13, 25)]
    await store.dossiers.record_intake(dossiers=[dossier(f"T{d[-2:]}", d) for d in due])

    await apologies.run_day(date(2026, 2, 13))

    assert await apology_texts(store) == [f"T{d}" for d in range(14, 24)]


async def test_the_run_is_recorded_with_the_dates_it_covered(setup):
    store, apologies, _ = setup

    await apologies.run_day(date(2026, 11, 27))

    assert await db_rows(store, "SELECT run_day, due_date FROM apology_runs") == [
        ("2026-11-27", "2026-11-28..2026-11-30")
    ]


async def test_apology_text_is_the_seed_text_with_the_due_date(setup):
    store, apologies, _ = setup
    await store.dossiers.record_intake(dossiers=[dossier("0101701234", "2026-11-30")])

    await apologies.run_day(date(2026, 11, 27))

    (text,) = (await db_rows(store, "SELECT text FROM messages"))[0]
    assert text == (
        "Thong bao: Ho so cua quy Ong/Ba (0101701234) chua co ket qua vao ngay 30/11/2026. "
        "So Cong Thuong chan thanh xin loi. Ong/Ba vui long den nhan ket qua khi co tin nhan "
        "tiep theo"
    )


@pytest.mark.parametrize("status", ["result_ready", "returned", "rejected", "withdrawn"])
async def test_finished_dossiers_get_no_apology(setup, status):
    store, apologies, _ = setup
    await store.dossiers.record_intake(dossiers=[dossier("F1", "2026-11-30", status=status)])

    assert await apologies.run_day(date(2026, 11, 27)) == 0


async def test_a_dossier_due_on_a_holiday_gets_its_apology(setup):
    """Friday 28/8/2026 covers 29/8 to Thursday 3/9, National Day and its days included."""
    store, apologies, _ = setup
    await store.dossiers.record_intake(
        dossiers=[
            dossier("H1", "2026-09-02"),
            dossier("H2", "2026-09-03"),
            dossier("H3", "2026-09-04"),
        ]
    )

    await apologies.run_day(date(2026, 8, 28))

    assert await apology_texts(store) == ["H1", "H2"]


async def test_no_run_on_a_weekend(setup):
    store, apologies, _ = setup
    await store.dossiers.record_intake(dossiers=[dossier("W1", "2026-11-30")])

    assert await apologies.run_day(date(2026, 11, 28)) == 0


async def test_each_dossier_gets_one_apology_per_due_date(setup):
    """Running the same day twice queues nothing more."""
    store, apologies, _ = setup
    await store.dossiers.record_intake(dossiers=[dossier("O1", "2026-11-30")])

    first = await apologies.run_day(date(2026, 11, 27))
    second = await apologies.run_day(date(2026, 11, 27))

    assert (first, second) == (1, 0)


async def test_two_runs_covering_one_due_date_apologise_once(setup):
    """Saturday 28/11 made a working day after Friday's run: its run covers Sunday and
    Monday again, and Monday's dossier is not told twice."""
    store, apologies, _ = setup
    await store.dossiers.record_intake(dossiers=[dossier("O1", "2026-11-30")])
    await apologies.run_day(date(2026, 11, 27))
    apologies.reconfigure(
        apology_settings(with_schedule(working_days=frozenset({date(2026, 11, 28)})))
    )

    assert await apologies.run_day(date(2026, 11, 28)) == 0
    assert await apology_texts(store) == ["O1"]


async def test_agency_without_apologies_is_left_out(setup):
    store, apologies, _ = setup
    await store.dossiers.record_intake(dossiers=[dossier("X1", "2026-11-30", agency="NOPE")])

    assert await apologies.run_day(date(2026, 11, 27)) == 0


async def queued_at(store: Store) -> dict[str, datetime]:
    """Each apology's receipt and when it may go (quiet hours), local time."""
    rows = await db_rows(
        store, "SELECT receipt_no, not_before FROM messages WHERE kind = 'apology'"
    )
    return {r[0]: datetime.fromtimestamp(r[1], TZ) for r in rows}


# Tuesday 1/12/2026's run is missed: it covers 2/12; Wednesday's run covers 3/12.
TUESDAY_DUE = [dossier("D02", "2026-12-02"), dossier("D03", "2026-12-03")]


@pytest.mark.parametrize(
    ("started", "goes_at"),
    [
        (datetime(2026, 12, 1, 17, 30, tzinfo=TZ), datetime(2026, 12, 1, 17, 30, tzinfo=TZ)),
        (datetime(2026, 12, 1, 21, 5, tzinfo=TZ), datetime(2026, 12, 2, 7, 0, tzinfo=TZ)),
        (datetime(2026, 12, 1, 23, 0, tzinfo=TZ), datetime(2026, 12, 2, 7, 0, tzinfo=TZ)),
        (datetime(2026, 12, 2, 2, 0, tzinfo=TZ), datetime(2026, 12, 2, 7, 0, tzinfo=TZ)),
    ],
    ids=["17:30", "21:05", "23:00", "02:00"],
)
async def test_a_missed_run_is_made_up_that_evening_or_when_quiet_hours_end(
    setup, started, goes_at
):
    """Down at 17:30 on Tuesday: started the same evening it goes at once, started in the
    night it goes at 07:00, and either way it covers Tuesday's due dates, not Wednesday's."""
    store, apologies, clock = setup
    await store.dossiers.record_intake(dossiers=TUESDAY_DUE)
    clock.set(started)

    await apologies.catch_up()

    assert await queued_at(store) == {"D02": goes_at}
    assert await db_rows(store, "SELECT run_day FROM apology_runs") == [("2026-12-01",)]


@pytest.mark.parametrize(
    "started",
    [datetime(2026, 12, 1, 17, 29, tzinfo=TZ), datetime(2026, 12, 2, 7, 0, tzinfo=TZ)],
    ids=["17:29", "07:00 next day"],
)
async def test_no_make_up_before_the_run_time_or_once_the_next_day_has_begun(setup, started):
    """At 17:29 the scheduler will run it; at 07:00 the citizens are on their way."""
    store, apologies, clock = setup
    await store.dossiers.record_intake(dossiers=TUESDAY_DUE)
    clock.set(started)

    await apologies.catch_up()

    assert await apology_texts(store) == []


async def test_a_made_up_run_is_not_sent_again_after_another_restart_or_the_next_run(setup):
    """Made up at 23:00, restarted at 02:00, then Wednesday's 17:30 run: one apology each."""
    store, apologies, clock = setup
    await store.dossiers.record_intake(dossiers=TUESDAY_DUE)
    clock.set(datetime(2026, 12, 1, 23, 0, tzinfo=TZ))
    await apologies.catch_up()
    clock.set(datetime(2026, 12, 2, 2, 0, tzinfo=TZ))
    config = default_config()
    restarted = Apologies(
        store.apologies,
        Composer(composer_settings(config), clock=clock),
        apology_settings(config),
        clock=clock,
    )

    await restarted.catch_up()
    clock.set(datetime(2026, 12, 2, 17, 30, tzinfo=TZ))
    await restarted.run_day(date(2026, 12, 2))

    rows = await db_rows(store, "SELECT ref FROM messages ORDER BY ref")
    assert rows == [("apology:D02:2026-12-02",), ("apology:D03:2026-12-03",)]


async def test_a_saturday_night_makes_up_fridays_run_at_seven(setup):
    """Started at 02:00 on Saturday: Friday's run, Saturday to Monday, goes at 07:00."""
    store, apologies, clock = setup
    await store.dossiers.record_intake(
        dossiers=[dossier("S28", "2026-11-28"), dossier("S30", "2026-11-30")]
    )
    clock.set(datetime(2026, 11, 28, 2, 0, tzinfo=TZ))

    await apologies.catch_up()

    seven = datetime(2026, 11, 28, 7, 0, tzinfo=TZ)
    assert await queued_at(store) == {"S28": seven, "S30": seven}


async def test_a_saturday_evening_makes_up_nothing(setup):
    """Saturday has no run, and Friday's was owed only until 07:00."""
    store, apologies, clock = setup
    await store.dossiers.record_intake(dossiers=[dossier("S30", "2026-11-30")])
    clock.set(datetime(2026, 11, 28, 19, 0, tzinfo=TZ))

    await apologies.catch_up()

    assert await apology_texts(store) == []


async def test_a_start_on_the_night_of_tet_eve_makes_up_the_whole_break(setup):
    """Down on Friday 13/2/2026 at 17:30, up at 23:00: 14/2 to 23/2 go at 07:00 on 14/2."""
    store, apologies, clock = setup
    await store.dossiers.record_intake(
        dossiers=[
            dossier("T14", "2026-02-14"),
            dossier("T17", "2026-02-17"),
            dossier("T23", "2026-02-23"),
        ]
    )
    clock.set(datetime(2026, 2, 13, 23, 0, tzinfo=TZ))

    await apologies.catch_up()

    seven = datetime(2026, 2, 14, 7, 0, tzinfo=TZ)
    assert await queued_at(store) == {"T14": seven, "T17": seven, "T23": seven}


async def test_make_up_does_not_repeat_a_run_that_happened(setup):
    store, apologies, clock = setup
    await store.dossiers.record_intake(dossiers=[dossier("M1", "2026-11-30")])
    await apologies.run_day(date(2026, 11, 27))
    clock.set(datetime(2026, 11, 27, 20, 0, tzinfo=TZ))
    await store.dossiers.record_intake(dossiers=[dossier("M2", "2026-11-30")])

    await apologies.catch_up()

    assert await apology_texts(store) == ["M1"]


# -- the schedule, and a reloaded calendar ------------------------------------------


class Timer:
    """Stands in for asyncio.sleep: records when the run loop wants to wake, wakes it on
    fire(); the clock is the test's, so nothing waits for real time."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.wake_at: list[datetime] = []
        self._sleeper: asyncio.Future[None] | None = None

    async def sleep(self, seconds: float) -> None:
        self.wake_at.append(datetime.fromtimestamp(self._clock() + seconds, TZ))
        self._sleeper = asyncio.get_running_loop().create_future()
        await self._sleeper

    def fire(self) -> None:
        assert self._sleeper is not None
        self._sleeper.set_result(None)


@pytest.fixture
async def scheduled(tmp_path, store_location):
    clock = Clock(datetime(2026, 11, 27, 18, 0, tzinfo=TZ))  # Friday, after the run time
    timer = Timer(clock)
    config = default_config()
    async with Store.open(store_location, clock=clock) as store:
        apologies = Apologies(
            store.apologies,
            Composer(composer_settings(config), clock=clock),
            apology_settings(config),
            clock=clock,
            sleep=timer.sleep,
        )
        task = asyncio.create_task(apologies.run())
        yield store, apologies, clock, timer
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def woken_at(timer: Timer, n: int) -> datetime:
    await eventually(lambda: len(timer.wake_at) >= n)
    return timer.wake_at[n - 1]


def with_schedule(**changes: Any) -> Config:
    config = default_config()
    return dataclasses.replace(config, schedule=dataclasses.replace(config.schedule, **changes))


async def test_the_loop_runs_at_the_next_working_days_apology_time(scheduled):
    """Friday evening, run made up at start: the next wake-up is Monday 17:30, and the
    run happens then."""
    store, _apologies, clock, timer = scheduled
    monday = datetime(2026, 11, 30, 17, 30, tzinfo=TZ)
    assert await woken_at(timer, 1) == monday
    await store.dossiers.record_intake(dossiers=[dossier("N1", "2026-12-01")])

    clock.set(monday)
    timer.fire()

    await eventually(lambda: len(timer.wake_at) >= 2)
    assert await apology_texts(store) == ["N1"]


async def test_a_reloaded_working_saturday_gets_its_run(scheduled):
    """SIGHUP adds Saturday 28/11 as a working day while the loop waits for Monday: it
    wakes on Saturday at 17:30 and covers Sunday and Monday."""
    store, apologies, clock, timer = scheduled
    await woken_at(timer, 1)
    await store.dossiers.record_intake(dossiers=[dossier("L1", "2026-11-30")])  # after Friday's run

    apologies.reconfigure(
        apology_settings(with_schedule(working_days=frozenset({date(2026, 11, 28)})))
    )
    saturday = await woken_at(timer, 2)
    clock.set(saturday)
    timer.fire()

    assert saturday == datetime(2026, 11, 28, 17, 30, tzinfo=TZ)
    await eventually(lambda: len(timer.wake_at) >= 3)
    assert await apology_texts(store) == ["L1"]


async def test_a_reloaded_local_day_off_moves_the_next_run(scheduled):
    """SIGHUP makes Monday 30/11 a local day off: the next run is Tuesday's."""
    _store, apologies, _clock, timer = scheduled
    await woken_at(timer, 1)

    apologies.reconfigure(apology_settings(with_schedule(holidays=frozenset({date(2026, 11, 30)}))))

    assert await woken_at(timer, 2) == datetime(2026, 12, 1, 17, 30, tzinfo=TZ)


async def test_a_reload_that_makes_this_evening_a_working_one_makes_up_its_run(scheduled):
    """At 18:00 on Saturday 28/11, SIGHUP makes the day a working one: its run is owed."""
    store, apologies, clock, timer = scheduled
    await woken_at(timer, 1)
    await store.dossiers.record_intake(dossiers=[dossier("R1", "2026-11-30")])
    clock.set(datetime(2026, 11, 28, 18, 0, tzinfo=TZ))
    await store.dossiers.record_intake(dossiers=[dossier("R2", "2026-12-01")])

    apologies.reconfigure(
        apology_settings(with_schedule(working_days=frozenset({date(2026, 11, 28)})))
    )

    assert await woken_at(timer, 2) == datetime(2026, 11, 30, 17, 30, tzinfo=TZ)
    assert await db_rows(store, "SELECT run_day, due_date FROM apology_runs ORDER BY 1") == [
        ("2026-11-27", "2026-11-28..2026-11-30"),
        ("2026-11-28", "2026-11-29..2026-11-30"),
    ]
    assert await apology_texts(store) == ["R1"]


async def test_a_reload_that_leaves_the_calendar_as_it_was_does_not_wake_the_loop(scheduled):
    """Agencies or templates reloaded: the wait for Monday goes on undisturbed."""
    _store, apologies, _clock, timer = scheduled
    await woken_at(timer, 1)

    apologies.reconfigure(apology_settings(default_config()))
    await asyncio.sleep(0.05)

    assert len(timer.wake_at) == 1


async def test_apologies_go_in_the_lowest_priority_lane(setup):
    store, apologies, _ = setup
    await store.dossiers.record_intake(dossiers=[dossier("P1", "2026-11-30")])

    await apologies.run_day(date(2026, 11, 27))

    assert await db_rows(store, "SELECT DISTINCT priority FROM messages") == [(2,)]


async def test_a_large_run_lets_the_rest_of_the_daemon_work_meanwhile(setup):
    """Composing is done in slices: other tasks (an MO reply, a receipt) get turns
    between them, not only once the whole run is composed."""
    store, apologies, _ = setup
    count = 5 * YIELD_EVERY
    await store.dossiers.record_intake(
        dossiers=[dossier(f"B{n}", "2026-11-30") for n in range(count)]
    )
    turns = 0
    seen: list[int] = []  # how many turns the other task had, at each text composed
    compose = apologies._composer.notice

    def watched(*args: Any, **kwargs: Any) -> Any:
        seen.append(turns)
        return compose(*args, **kwargs)

    apologies._composer.notice = watched

    async def other_work() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    other = asyncio.create_task(other_work())
    queued = await apologies.run_day(date(2026, 11, 27))
    other.cancel()

    assert queued == count
    assert len(set(seen)) >= count // YIELD_EVERY


async def test_a_run_larger_than_a_slice_queues_every_dossier_once_across_slices(setup):
    """Dossiers spread over several slices and two due dates: each one apologised for
    once, and the run's record counts them all."""
    store, apologies, _ = setup
    count = 2 * SLICE + 3
    await store.dossiers.record_intake(
        dossiers=[dossier(f"S{n}", "2026-11-28" if n % 2 else "2026-11-30") for n in range(count)]
        + [dossier(f"F{n}", "2026-11-28", status="result_ready") for n in range(5)]
    )

    queued = await apologies.run_day(date(2026, 11, 27))

    assert queued == count
    rows = await db_rows(store, "SELECT COUNT(*), COUNT(DISTINCT ref) FROM messages")
    assert rows == [(count, count)]
    assert await db_rows(store, "SELECT queued FROM apology_runs") == [(count,)]


async def test_a_run_cut_short_between_slices_is_made_up_without_doubles(setup):
    """The store fails on the second slice (a full disk, a crash): the run is not marked
    done, and running it again queues only what the first attempt had not."""
    store, apologies, _ = setup
    count = 3 * SLICE
    await store.dossiers.record_intake(
        dossiers=[dossier(f"C{n}", "2026-11-30") for n in range(count)]
    )
    queue = store.apologies.queue_apologies
    calls = 0

    async def failing_second(messages: Any) -> int:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError("disk full")
        return await queue(messages)

    store.apologies.queue_apologies = failing_second  # type: ignore[method-assign]
    with pytest.raises(OSError):
        await apologies.run_day(date(2026, 11, 27))
    assert not await store.apologies.apology_ran("2026-11-27")
    first = await db_rows(store, "SELECT COUNT(*) FROM messages")

    store.apologies.queue_apologies = queue  # type: ignore[method-assign]
    again = await apologies.run_day(date(2026, 11, 27))

    assert 0 < first[0][0] < count
    assert again == count - first[0][0]
    assert await db_rows(store, "SELECT COUNT(*), COUNT(DISTINCT ref) FROM messages") == [
        (count, count)
    ]
    assert await store.apologies.apology_ran("2026-11-27")


async def test_pages_of_open_dossiers_due_cover_each_once_in_store_order(setup):
    """Page after page from where the last ended: every open dossier due that day once,
    the finished and the other days' left out, an empty page at the end."""
    store, _apologies, _ = setup
    await store.dossiers.record_intake(
        dossiers=[dossier(f"P{n}", "2026-11-30") for n in range(7)]
        + [dossier("X", "2026-11-30", status="result_ready"), dossier("Y", "2026-12-01")]
    )
    seen: list[str] = []
    after = 0
    while True:
        page, after = await store.apologies.open_dossiers_due("2026-11-30", after=after, limit=3)
        if not page:
            break
        assert len(page) <= 3
        seen += [d.receipt_no for d in page]

    assert seen == [f"P{n}" for n in range(7)]


async def test_a_page_of_dossiers_due_is_read_by_the_due_date_index(setup):
    """From the last position on, by index: a page costs the same on the millionth
    dossier as on the first."""
    store, _apologies, _ = setup
    await store.dossiers.record_intake(dossiers=[dossier("I1", "2026-11-30")])
    statements: list[str] = []
    store.database.trace(statements.append)
    await store.apologies.open_dossiers_due("2026-11-30", after=1, limit=10)
    store.database.trace(None)

    (sql,) = [s for s in statements if "FROM dossiers" in s]
    if store.database.dialect.postgresql:  # its trace is the statement before its values
        plan = await query_plan(store, sql, ["2026-11-30", 1, 10])
        assert plan[:2] == ["Limit", "->  Index Scan using dossiers_due on dossiers"], plan
        (cond,) = [step for step in plan if step.startswith("Index Cond:")]
        assert "due_date =" in cond and "rowid >" in cond, plan
    else:
        plan = await query_plan(store, sql)
        assert plan == ["SEARCH dossiers USING INDEX dossiers_due (due_date=? AND rowid>?)"], plan
