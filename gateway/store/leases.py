"""Leases: the jobs that run on one daemon at a time, whichever daemon that is.

The apology run, the receipt-timeout sweep (with the cleanup of receipts that matched
nothing), Zalo's fallback timer and the daily retention purge each run on the daemon that
holds their lease (`leases (name, holder, until)`). A lease is taken by one statement when
it is free, expired, or already the taker's (a daemon restarted under its own name takes
its own back at once), and renewed every third of the lease while the job runs. A holder
that dies stops renewing: another daemon takes the lease once it expires. A holder that
finds its lease taken (it was stalled past the expiry) stops its job at once.

A job's own record of what it did stays its own (the apology run's `apology_runs`, in the
transaction of the notices it queues), so a lease moving mid-run never makes a second run.
On SQLite (one daemon per store) the one daemon always holds every lease.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from enum import StrEnum

import structlog

from gateway.store.claims import ALONE, Claimant
from gateway.store.database import Connection, Database

log = structlog.get_logger("gateway.store.leases")


class Job(StrEnum):
    """The jobs that run under a lease: the lease's name."""

    APOLOGY = "apology"
    RECEIPT_SWEEP = "receipt_sweep"
    ZALO_FALLBACK = "zalo_fallback"
    RETENTION = "retention"


_TAKE = """INSERT INTO leases (name, holder, until) VALUES (?, ?, ?)
    ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
    WHERE leases.until < ? OR leases.holder = excluded.holder"""


class Leases:
    """Take, renew and list the leases of one daemon (`claimant`)."""

    def __init__(self, db: Database, claimant: Claimant = ALONE) -> None:
        self._db = db
        self.claimant = claimant

    async def take(self, job: str) -> bool:
        """Take or renew the lease of `job` for one lease from now; False if another
        daemon holds it unexpired."""
        return await self._db.write(_take, job, self.claimant, self._db.lease_clock())

    async def holders(self) -> dict[str, tuple[str, float]]:
        """Each lease's holder and until when (epoch seconds)."""
        found = await self._db.read(_holders)
        return {name: (holder, until) for name, holder, until in found}


def _take(db: Connection, job: str, me: Claimant, now: float) -> bool:
    db.execute(_TAKE, (job, me.name, now + me.lease, now))
    row = db.execute("SELECT holder FROM leases WHERE name = ?", (job,)).fetchone()
    return row is not None and row[0] == me.name


def _holders(db: Connection) -> list[tuple[str, str, float]]:
    return db.execute("SELECT name, holder, until FROM leases").fetchall()


def release_all(db: Connection, name: str) -> None:
    """A daemon stopping gives its leases up (inside its leaving transaction): the next
    daemon takes them at once instead of after the expiry."""
    db.execute("DELETE FROM leases WHERE holder = ?", (name,))


async def while_held(
    leases: Leases,
    job: Job,
    run: Callable[[], Awaitable[None]],
    *,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> None:
    """Run `run` while this daemon holds the lease of `job`. Until it does (another daemon
    holds it), and again after losing it, ask every third of the lease. Returns when `run`
    returns; a failure of `run` or of the store goes up (the daemon's supervisor starts it
    again)."""
    every = leases.claimant.lease / 3
    while True:
        while not await leases.take(job):
            await sleep(every)
        log.info("lease_taken", job=str(job), holder=leases.claimant.name)
        if await _run_held(leases, job, run, every):
            return
        log.warning("lease_lost", job=str(job), holder=leases.claimant.name)


async def _run_held(
    leases: Leases, job: Job, run: Callable[[], Awaitable[None]], every: float
) -> bool:
    """Run `run`, renewing the lease every `every` seconds: True once it returned, False
    (and `run` cancelled) as soon as a renewal finds the lease another daemon's."""
    task = asyncio.ensure_future(run())
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=every)
            if done:
                task.result()
                return True
            if not await leases.take(job):
                return False
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def leased(
    leases: Leases, job: Job, run: Callable[[], Awaitable[None]]
) -> Callable[[], Awaitable[None]]:
    """`run` as a part that runs only while this daemon holds the lease of `job`."""
    return lambda: while_held(leases, job, run)
