"""The apology run with several daemons on one store: the daemon holding the apology's
lease runs it, once an evening, one set of notices; when it dies, another runs the next."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from gateway.app import apology_settings, composer_settings
from gateway.compose.apology import Apologies
from gateway.compose.composer import Composer
from gateway.domain.dossier import DossierRow
from gateway.settings.config import default_config
from gateway.store.leases import Job, while_held
from gateway.store.store import Store
from tests.support.clock import Clock
from tests.support.daemons import daemon_stores
from tests.support.store_reads import db_rows
from tests.support.wait import eventually

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY_1700 = datetime(2026, 11, 30, 17, 0, tzinfo=TZ).timestamp()
MONDAY_1730 = datetime(2026, 11, 30, 17, 30, tzinfo=TZ).timestamp()
TUESDAY_1730 = datetime(2026, 12, 1, 17, 30, tzinfo=TZ).timestamp()
# Seconds, on the test's clock: a Monday run's lease has expired by Tuesday's run.
LEASE = 3600.0


def dossier(receipt: str, due: str) -> DossierRow:
    return DossierRow(
        receipt_key=receipt.upper(), receipt_no=receipt, agency="SCT", procedure="Cấp phép",
        procedure_code=None, phone="0905123456", step="Thẩm định hồ sơ", status="processing",
        due_date=due, same_day=False, occurred_at="2026-11-20T10:00:00+07:00", finished_on=None,
    )  # fmt: skip


class Daemon:
    """One daemon's apology schedule under its lease, on the test's clock."""

    def __init__(self, store: Store, clock: Clock) -> None:
        config = default_config()
        self.store = store
        self._clock = clock
        self.apologies = Apologies(
            store.apologies,
            Composer(composer_settings(config), clock=clock),
            apology_settings(config),
            clock=clock,
            sleep=self._sleep,
        )
        self.task: asyncio.Task[None] | None = None
        # The runs this daemon made, by day.
        self.ran: list[str] = []
        run_day = self.apologies.run_day

        async def counted(day: date) -> int:
            self.ran.append(day.isoformat())
            return await run_day(day)

        self.apologies.run_day = counted  # type: ignore[method-assign]

    async def _sleep(self, seconds: float) -> None:
        """Until the test's clock has moved on by `seconds`."""
        until = self._clock() + seconds
        while self._clock() < until:
            await asyncio.sleep(0.01)

    def start(self) -> None:
        self.task = asyncio.create_task(
            while_held(
                self.store.leases, Job.APOLOGY, self.apologies.run, sleep=self._poll
            )
        )

    @staticmethod
    async def _poll(_seconds: float) -> None:
        await asyncio.sleep(0.02)  # ask for the lease often: the test's clock jumps

    async def stop(self) -> None:
        """Killed: no leave, its lease runs out on its own."""
        assert self.task is not None
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


@pytest.fixture
async def two(postgres_url) -> AsyncIterator[tuple[Daemon, Daemon, Clock]]:
    """Two daemons on one store: PostgreSQL, the one store several daemons share (on SQLite
    the file's lock keeps one, and two writers polling it would starve each other)."""
    clock = Clock(MONDAY_1700)
    async with daemon_stores(postgres_url, ["a", "b"], clock, lease=LEASE) as (a, b):
        daemons = Daemon(a, clock), Daemon(b, clock)
        yield *daemons, clock
        for daemon in daemons:
            if daemon.task is not None:
                await daemon.stop()


async def apologised(store: Store) -> list[str]:
    rows = await db_rows(store, "SELECT receipt_no FROM messages WHERE kind = 'apology'")
    return sorted(r[0] for r in rows)


async def runs(store: Store) -> list[str]:
    return [r[0] for r in await db_rows(store, "SELECT run_day FROM apology_runs ORDER BY 1")]


async def holder(store: Store) -> str | None:
    found = (await store.leases.holders()).get(Job.APOLOGY)
    return None if found is None else found[0]


def held_by(store: Store, name: str):
    async def check() -> bool:
        return await holder(store) == name

    return check


def ran(store: Store, *days: str):
    async def check() -> bool:
        return await runs(store) == list(days)

    return check


async def test_two_daemons_at_the_apology_time_make_one_run_and_one_set_of_notices(two):
    a, b, clock = two
    await a.store.dossiers.record_intake(dossiers=[dossier("N1", "2026-12-01")])
    a.start()
    await eventually(held_by(a.store, "a"), timeout=10)
    b.start()
    await asyncio.sleep(0.1)  # b asks for the lease a few times

    clock.now = MONDAY_1730
    await eventually(ran(a.store, "2026-11-30"), timeout=10)
    await asyncio.sleep(0.2)  # time for a second run, were there one

    assert (a.ran, b.ran) == (["2026-11-30"], [])
    assert await apologised(a.store) == ["N1"]


async def test_when_the_holder_dies_the_other_daemon_runs_the_next_evening(two):
    a, b, clock = two
    a.start()
    await eventually(held_by(a.store, "a"), timeout=10)
    b.start()
    clock.now = MONDAY_1730
    await eventually(ran(a.store, "2026-11-30"), timeout=10)
    await a.stop()
    await b.store.dossiers.record_intake(dossiers=[dossier("N2", "2026-12-02")])

    clock.now = TUESDAY_1730
    await eventually(ran(b.store, "2026-11-30", "2026-12-01"), timeout=10)

    assert (a.ran, b.ran) == (["2026-11-30"], ["2026-12-01"])
    assert await apologised(b.store) == ["N2"]
