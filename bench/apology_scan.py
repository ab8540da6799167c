"""Apology scan: N dossiers, a share due the next working day: time to select and queue them.

At 17:30 the daemon finds every unfinished dossier due the next working day, composes
the agency's apology for each and queues them, slice by slice (one transaction each,
committed while the next slice is composed; the run is marked done in the last). With a province's
year of dossiers in the mirror (1,000,000) and 10 % due tomorrow, that is 100,000
messages: the goal is ≤ 2 s, so that the run never holds the store (and the MO replies
waiting on it) for long.

What is timed is exactly the daemon's code path at that moment: `Store.apology_ran` and
`Apologies.run_day` (gateway/apology.py) with the real `Composer` and a configuration
parsed as the daemon parses its file, on a store already open. Filling the store is not
timed: the schema comes from the store itself, the rows from one bulk `executemany`, as
mo_latency.py does. The due dossiers are all open (`processing`), not same-day, with a
valid mobile number, half for an agency that strips diacritics (GSM-7) and half for one
that keeps them (UCS-2); the others are spread over four months of other due dates and
every status, finished ones included. The file was just written, so it is in the page
cache: this is the warm figure, as on a server that has been serving lookups all day.

    python bench/apology_scan.py [--dossiers 1000000] [--share 0.10]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shlex
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.app import apology_settings, composer_settings
from gateway.calendar.workdays import WorkCalendar
from gateway.compose.apology import Apologies
from gateway.compose.composer import Composer
from gateway.domain.dossier import STATUSES
from gateway.ops.logs import configure_logging
from gateway.settings.config import parse_config
from gateway.store.store import Store

T = TypeVar("T")

# A Thursday that is no holiday: the run covers Friday 27/11/2026.
RUN_DAY = date(2026, 11, 26)

# Statuses of the dossiers not due tomorrow: open and finished alike, so the select has
# to use the due date, not luck.
OTHER_STATUSES = tuple(sorted(STATUSES))

# Third digits of 09x mobile prefixes that are mobile whatever follows (0992x is not).
MOBILE = "0134678"

CONFIG = """\
smpp: {{port: 2775, password: secret}}
mqtt: {{port: 1883, client_id: bench-apology}}
store: {{path: {db}}}
agencies:
  SCT: {{name: Sở Công Thương}}
  STP: {{name: Sở Tư pháp, diacritics: keep}}
"""


def is_due(n: int, count: int, due: int) -> bool:
    """Exactly `due` of `count` dossiers, spread evenly over the table (not one block)."""
    return (n * due) // count != ((n + 1) * due) // count


def phone(n: int) -> str:
    """A distinct mobile number per dossier, on prefixes every carrier table accepts."""
    return f"09{MOBILE[n % len(MOBILE)]}{(n // len(MOBILE) * 7919) % 10_000_000:07d}"


def rows(count: int, due: int, due_date: date) -> Iterator[tuple[object, ...]]:
    """The dossiers table's rows: `due` of them open and due on `due_date`."""
    others = [due_date + timedelta(days=d) for d in range(-60, 61) if d != 0]
    for n in range(count):
        receipt = f"000.00.06.H56-{231000 + n // 10_000:06d}-{n % 10_000:04d}"
        if is_due(n, count, due):
            status, day, finished = "processing", due_date, None
        else:
            status = OTHER_STATUSES[n % len(OTHER_STATUSES)]
            day = others[n % len(others)]
            finished = "2026-11-20" if status in ("result_ready", "returned") else None
        yield (
            receipt.upper(), receipt, "SCT" if n % 2 else "STP",
            "Cấp Giấy phép kinh doanh", None, phone(n),
            "Thẩm định hồ sơ", status, day.isoformat(), 0,
            "2026-11-20T09:00:00+07:00", finished,
        )  # fmt: skip


# The columns the rows give, by name: later schemas add columns (notice_owed) with defaults.
DOSSIER_INSERT = (
    "INSERT INTO dossiers (receipt_key, receipt_no, agency, procedure, procedure_code, phone,"
    " step, status, due_date, same_day, occurred_at, finished_on)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
)


async def build_store(path: Path, count: int, due: int, due_date: date) -> float:
    """The schema through the store itself, then the dossiers in one bulk transaction."""
    async with Store.open(path):
        pass
    started = time.perf_counter()
    db = sqlite3.connect(path)
    with db:
        db.executemany(DOSSIER_INSERT, rows(count, due, due_date))
    db.close()
    return time.perf_counter() - started


def timed(fn: Callable[..., Awaitable[T]], spent: list[float]) -> Callable[..., Awaitable[T]]:
    """`fn`, adding the seconds each call takes to `spent` (for the phase breakdown)."""

    async def wrapper(*args: Any, **kwargs: Any) -> T:
        started = time.perf_counter()
        try:
            return await fn(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - started)

    return wrapper


async def watch_loop(stalls: list[float], tick: float = 0.01) -> None:
    """Record how late each 10 ms tick comes: in the daemon, that is how long the run
    keeps the event loop from answering the SMSC, MOs and the broker."""
    loop = asyncio.get_running_loop()
    while True:
        before = loop.time()
        await asyncio.sleep(tick)
        stalls.append(loop.time() - before - tick)


async def measure(*, dossiers: int = 1_000_000, share: float = 0.10) -> dict[str, Any]:
    """Fill a store, run the day's apology once as the daemon does; figures and checks."""
    work = Path(tempfile.mkdtemp(prefix="motcua-apology-bench-"))
    try:
        db = work / "gateway.db"
        config = parse_config(CONFIG.format(db=db), path=str(work / "gateway.yaml"))
        covers = WorkCalendar.from_schedule(config.schedule).apology_covers(RUN_DAY)
        if len(covers) != 1:
            raise RuntimeError(f"{RUN_DAY}'s run does not cover exactly one due date")
        (due_date,) = covers
        due = round(dossiers * share)
        built = await build_store(db, dossiers, due, due_date)

        async with Store.open(db) as store:
            apologies = Apologies(
                store.apologies, Composer(composer_settings(config)), apology_settings(config)
            )
            select: list[float] = []
            write: list[float] = []
            # Instance attributes over the bound methods: the same calls, timed.
            runs = store.apologies
            runs.open_dossiers_due = timed(runs.open_dossiers_due, select)  # type: ignore[method-assign]
            runs.queue_apologies = timed(runs.queue_apologies, write)  # type: ignore[method-assign]
            runs.record_apology_run = timed(runs.record_apology_run, write)  # type: ignore[method-assign]

            stalls: list[float] = []
            ticker = asyncio.create_task(watch_loop(stalls))
            await asyncio.sleep(0.05)
            started = time.perf_counter()
            # What Apologies.run() does at apology_at.
            if not await runs.apology_ran(RUN_DAY.isoformat()):
                new = await apologies.run_day(RUN_DAY)
            else:
                new = 0
            seconds = time.perf_counter() - started
            ticker.cancel()

            # Counted beside the store, as any reader of its file would.
            reader = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
            by_state = dict(
                reader.execute(
                    "SELECT state, COUNT(*) FROM messages WHERE kind = 'apology' GROUP BY state"
                ).fetchall()
            )
            ((statuses,),) = reader.execute("SELECT COUNT(*) FROM status_out").fetchall()
            reader.close()
        size = sum(p.stat().st_size for p in (db, db.with_name("gateway.db-wal")) if p.exists())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    queued = by_state.get("queued", 0)
    return {
        "dossiers": dossiers,
        "due_tomorrow": due,
        "run_day": RUN_DAY.isoformat(),
        "due_date": due_date.isoformat(),
        "built_in": built,
        "seconds": seconds,
        "select_seconds": sum(select),
        "write_seconds": sum(write),
        # Reads and commits overlap composing now: what is left is the loop's own share.
        "compose_seconds": max(0.0, seconds - sum(select) - sum(write)),
        "loop_stall_max": max(stalls, default=0.0),
        "new": new,
        "queued": queued,
        "by_state": by_state,
        "statuses": statuses,
        "db_mb": size / 1e6,
        "ok": queued == due == new and sum(by_state.values()) == due,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=1_000_000)
    parser.add_argument("--share", type=float, default=0.10, help="share due tomorrow")
    args = parser.parse_args()
    print(f"$ python {' '.join(shlex.quote(a) for a in sys.argv)}", flush=True)
    configure_logging(logging.WARNING)  # the daemon's own log line would clutter this
    got = await measure(dossiers=args.dossiers, share=args.share)
    print(
        f"{got['dossiers']:,} dossiers (bulk-loaded in {got['built_in']:.1f} s, "
        f"{got['db_mb']:.0f} MB on disk), {got['due_tomorrow']:,} open and due "
        f"{got['due_date']} (run of {got['run_day']}); {os.cpu_count()} cores"
    )
    print(
        f"apology run: {got['seconds']:.2f} s to select and queue {got['queued']:,} "
        f"(awaited: select {got['select_seconds']:.2f} s, queue + commit "
        f"{got['write_seconds']:.2f} s, overlapping composing); "
        f"{got['statuses']:,} statuses to publish"
    )
    print(
        f"longest event-loop stall during the run: {got['loop_stall_max']:.2f} s "
        "(the daemon answers nothing for that long)"
    )
    if got["ok"]:
        print(f"check: {got['queued']:,} queued apologies in the store = dossiers due: OK")
    else:
        print(
            f"!!! MISMATCH: {got['due_tomorrow']:,} dossiers due, run_day said {got['new']:,} "
            f"new, the store holds apologies by state {got['by_state']} !!!"
        )


if __name__ == "__main__":
    asyncio.run(main())
