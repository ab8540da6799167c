"""The console reads the store beside the daemon for days: what the daemon commits after
the console started (even one started while the daemon was stopped) is on the next page,
and the daemon's writes never wait for the console's reads."""

from __future__ import annotations

import asyncio
import re

from gateway.store.store import Store
from tests.support.clock import Clock, at
from tests.support.console import client, console_reading, log_in
from tests.support.figures import dossier

PERIOD = "from=2026-11-23&to=2026-11-23"


def received(body: str) -> int:
    """The dossiers received that the per-agency table of the overview shows."""
    cells = re.findall(r'data-key="dossiers_received">([\d.]+)</td>', body)
    return sum(int(c.replace(".", "")) for c in cells)


async def overview(session) -> str:
    async with session.get(f"/?{PERIOD}") as answer:
        assert answer.status == 200
        return await answer.text()


async def test_a_console_started_while_the_daemon_was_stopped_shows_what_it_wrote_since(
    tmp_path,
):
    db = tmp_path / "gateway.db"
    clock = Clock(at(10))
    async with Store.open(db, clock=clock) as store:
        await store.dossiers.record_intake(dossiers=[dossier("000001")])
    # The daemon stopped: no -wal, no -shm; the console starts now.
    async with console_reading(db) as running, client(running.url) as session:
        await log_in(session)
        before = received(await overview(session))
        async with Store.open(db, clock=clock) as store:  # the daemon starts again
            await store.dossiers.record_intake(dossiers=[dossier("000002"), dossier("000003")])
            during = received(await overview(session))
        after = received(await overview(session))  # and stops again

    assert (before, during, after) == (1, 3, 3)


async def test_the_daemon_commits_while_twenty_pages_are_being_read(tmp_path):
    db = tmp_path / "gateway.db"
    clock = Clock(at(10))
    async with Store.open(db, clock=clock) as store:
        await store.dossiers.record_intake(dossiers=[dossier("000000")])
        async with console_reading(db) as running, client(running.url) as session:
            await log_in(session)
            pages = [overview(session) for _ in range(20)]
            writes = [
                store.dossiers.record_intake(dossiers=[dossier(f"1{n:05d}")]) for n in range(20)
            ]
            async with asyncio.timeout(60):
                await asyncio.gather(*pages, *writes)
            last = received(await overview(session))

    assert last == 21
