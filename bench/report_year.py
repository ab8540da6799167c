"""The reconciliation report over a large province's year: 1,000,000 dossiers and
5,000,000 messages; the goal is under a second.

A store of the schema before the figures is filled in bulk (`executemany`, not MQTT: the
rows are what a year of intake, sending and receipts leaves), then opened by the store
itself, which runs the figures' migration and its backfill, as on the first start of the
new release (that time is printed too). The store is cached under the system's temporary
directory, keyed by schema (version and text) and size, because filling and migrating it takes
minutes. What is timed, warm (the file was just read):

- `motcua-sms report --by agency,procedure,day` for the year, as a supervisor runs it (a
  process of its own: interpreter start-up and imports included), CSV to a pipe;
- `Figures.table` for the year and for a month, by agency × procedure × day, in-process
  (what the console calls);
- `Figures.failed` for a month's first page.

And what the triggers cost the writers: the same intake batches (a dossier and its notice,
100 a transaction) into a fresh store with the figures' triggers and without them.

Forty agencies with sixty procedures each (one in ten without a code), chosen by a
Zipf-like weight as real loads are; dossiers received in working hours over the year's
weekdays, most resolved within days; messages of every kind and fate (82 % delivered,
the rest refused for a landline, an impossible or no number, UNDELIV, EXPIRED, failed,
a few still waiting), one or two segments, MCKH replies with their MO.

    python bench/report_year.py [--dossiers 1000000] [--messages 5000000] [--rebuild]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import shlex
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.store import figures_schema
from gateway.store.figures import Figures
from gateway.store.schema import MIGRATIONS, SCHEMA_VERSION
from gateway.store.store import Store

T = TypeVar("T")
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
YEAR = 2025
AGENCIES = [f"A{n:02d}" for n in range(1, 41)]
PROCEDURES = 60
PREVIOUS = MIGRATIONS.index(figures_schema.MIGRATION)  # the schema before the figures

# (state, reason, share) of the messages' fates.
FATES = (
    ("delivered", None, 0.82),
    ("rejected", "phone: landline (landline number), SMS needs a mobile", 0.03),
    ("rejected", "phone: too_short (too short: 6 digits)", 0.02),
    ("rejected", "phone: missing (missing)", 0.03),
    ("undeliverable", "receipt: UNDELIV err:001", 0.04),
    ("expired", "receipt: EXPIRED", 0.03),
    ("failed", "smsc: ESME_RINVDSTADR", 0.02),
    ("submitted", None, 0.005),
    ("queued", None, 0.005),
)
SENT = {"submitted", "delivered", "undeliverable", "expired"}
KINDS = ("receipt", "result", "supplement", "payment", "apology", "mo_reply")
KIND_WEIGHTS = (0.25, 0.3, 0.1, 0.1, 0.1, 0.15)
CONFIG = """\
smpp: {{port: 2775, password: secret}}
mqtt: {{port: 1883, client_id: bench-report}}
store: {{path: {db}}}
report: {{segment_price: 450}}
agencies:
{agencies}"""


def working_times(rng: random.Random) -> Callable[[], float]:
    """A random moment of the year's weekdays, 07:00-17:00 local."""
    days = [date(YEAR, 1, 1) + timedelta(days=d) for d in range(365)]
    weekdays = [d for d in days if d.weekday() < 5]
    starts = [datetime(d.year, d.month, d.day, 7, tzinfo=TZ).timestamp() for d in weekdays]
    return lambda: rng.choice(starts) + rng.random() * 10 * 3600


def procedure(agency: int, rank: int) -> tuple[str | None, str]:
    code = None if rank % 10 == 9 else f"{agency}.{rank:06d}"
    return code, f"Thủ tục số {rank} của cơ quan {agency}"


def dossier_rows(count: int, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    """(dossier row, first event's time, resolved time or None) for `count` dossiers."""
    moment = working_times(rng)
    agency_weights = [1 / (n + 1) for n in range(len(AGENCIES))]
    proc_weights = [1 / (n + 1) for n in range(PROCEDURES)]
    agencies = rng.choices(range(len(AGENCIES)), agency_weights, k=count)
    ranks = rng.choices(range(PROCEDURES), proc_weights, k=count)
    for n in range(count):
        a, rank = agencies[n], ranks[n]
        code, name = procedure(a, rank)
        received = moment()
        resolved = received + rng.uniform(0.5, 10) * 86400 if rng.random() < 0.9 else None
        last = resolved or received
        status = (
            ("returned" if rng.random() < 0.5 else "result_ready") if resolved else "processing"
        )
        finished = datetime.fromtimestamp(resolved, TZ).date().isoformat() if resolved else None
        receipt = f"H56-{n:09d}"
        yield (
            (receipt, receipt, AGENCIES[a], name, code, "84905123456", "Trả kết quả", status,
             None, 0, datetime.fromtimestamp(last, TZ).isoformat(), finished),
            received,
            resolved,
        )  # fmt: skip


async def build(path: Path, dossiers: int, messages: int) -> dict[str, float]:
    """Fill a store of the previous schema, then migrate it (the figures' backfill)."""
    rng = random.Random(15)
    started = time.perf_counter()
    db = sqlite3.connect(path, isolation_level=None)
    for number, script in enumerate(MIGRATIONS[:PREVIOUS], start=1):
        db.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")
    db.execute("PRAGMA journal_mode=WAL")
    per = messages / dossiers
    fates = [f[:2] for f in FATES]
    shares = [f[2] for f in FATES]
    msg_rows: list[tuple[Any, ...]] = []
    part_rows: list[tuple[int, int, str]] = []
    mo_rows: list[tuple[Any, ...]] = []
    d_rows: list[tuple[Any, ...]] = []
    e_rows: list[tuple[Any, ...]] = []
    mid = 0

    def flush() -> None:
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO dossiers (receipt_key, receipt_no, agency, procedure, procedure_code,"
            " phone, step, status, due_date, same_day, occurred_at, finished_on)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            d_rows,
        )
        db.executemany(
            "INSERT INTO events (event_id, agency, receipt_key, applied, received_at)"
            " VALUES (?,?,?,1,?)",
            e_rows,
        )
        db.executemany(
            "INSERT INTO messages (id, agency, ref, event_id, receipt_no, kind, procedure,"
            " phone, source, text, priority, state, reason, segments, concat_ref, attempts,"
            " not_before, expires_at, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?,NULL,'HCC',NULL,1,?,?,?,0,1,?,?,?,?)",
            msg_rows,
        )
        db.executemany(
            "INSERT INTO parts (message_id, seq, smsc_id, state) VALUES (?,?,?,'delivered')",
            part_rows,
        )
        db.executemany(
            "INSERT INTO mo_log (at, sender, shortcode, text, keyword, outcome, reply_ref)"
            " VALUES (?, '', '8083', '', 'MCKH', ?, ?)",
            mo_rows,
        )
        db.execute("COMMIT")
        for held in (msg_rows, part_rows, mo_rows, d_rows, e_rows):
            held.clear()

    made = 0
    for n, (row, received, resolved) in enumerate(dossier_rows(dossiers, rng)):
        d_rows.append(row)
        receipt, agency, name = row[0], row[2], row[3]
        e_rows.append((f"ev-{n}", agency, receipt, received))
        want = int((n + 1) * per) - made
        for k in range(want):
            made += 1
            mid += 1
            kind = rng.choices(KINDS, KIND_WEIGHTS)[0]
            at = (resolved or received) if kind == "result" else received + k * 60
            state, reason = rng.choices(fates, shares)[0]
            segments = 1 if rng.random() < 0.7 else 2
            ref = f"m{mid}"
            msg_rows.append(
                (mid, agency, ref, f"ev-{n}", receipt, kind, None if kind == "mo_reply" else name,
                 state, reason, segments if state != "rejected" else 0, at, at + 172800, at,
                 at + 30)
            )  # fmt: skip
            if state in SENT:
                part_rows.extend((mid, s, f"{mid:x}-{s}") for s in range(1, segments + 1))
            if kind == "mo_reply":
                outcome = "answered" if rng.random() < 0.9 else "not_understood"
                mo_rows.append((at - 5, outcome, ref))
        if len(msg_rows) >= 200_000:
            flush()
    flush()
    db.close()
    filled = time.perf_counter() - started
    started = time.perf_counter()
    async with Store.open(path):  # the daemon's first start: the figures' migration
        pass
    return {"filled": filled, "migrated": time.perf_counter() - started}


async def best_of(fn: Callable[[], Awaitable[T]], runs: int = 3) -> tuple[float, T]:
    """The median time of `runs` calls, and the last call's result."""
    times: list[float] = []
    result: Any = None
    for _ in range(runs):
        started = time.perf_counter()
        result = await fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def command_time(config: Path, by: str, runs: int = 3) -> tuple[list[str], float, int]:
    """`motcua-sms report` for the year, as its own process: median wall time, rows."""
    command = [sys.executable, "-m", "gateway.cli", "report", "-c", str(config),
               "--from", f"{YEAR}-01-01", "--to", f"{YEAR}-12-31",
               "--by", by, "--format", "csv"]  # fmt: skip
    times, lines = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - started)
        lines = done.stdout.count("\n") - 1
    return command, statistics.median(times), lines


TRIGGERS = ("figures_message_insert", "figures_message_update", "figures_dossier")


async def write_cost(batches: int = 200, size: int = 100) -> dict[str, float]:
    """Intake's commits (dossier + notice, `size` a transaction) with and without the
    figures' triggers: notices a second."""
    from gateway.domain.dossier import DossierRow
    from gateway.domain.message import NewMessage

    rates: dict[str, float] = {}
    for label in ("with_triggers", "without_triggers"):
        with tempfile.TemporaryDirectory() as work:
            path = Path(work) / "w.db"
            async with Store.open(path):
                pass
            if label == "without_triggers":
                with sqlite3.connect(path) as raw:
                    for name in TRIGGERS:
                        raw.execute(f"DROP TRIGGER {name}")
            async with Store.open(path) as store:
                started = time.perf_counter()
                for b in range(batches):
                    rows, notices = [], []
                    for k in range(size):
                        n = b * size + k
                        receipt = f"R{n:08d}"
                        rows.append(DossierRow(
                            receipt, receipt, "SCT", "Cấp phép", "1.001", "84905123456", "x",
                            "result_ready", None, False, "2025-06-02T09:00:00+07:00", None,
                        ))  # fmt: skip
                        notices.append(NewMessage(
                            agency="SCT", ref=f"n{n}", kind="result", source="HCC", priority=1,
                            state="queued", not_before=0.0, expires_at=9e9, phone="84905123456",
                            text="Thong bao", segments=1, receipt_no=receipt, procedure="Cấp phép",
                        ))  # fmt: skip
                    await store.dossiers.record_intake(dossiers=rows, messages=notices)
                rates[label] = batches * size / (time.perf_counter() - started)
    return rates


def _count(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT COUNT(*) FROM figures").fetchone()[0])


def _version(path: Path) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


def prepare(dossiers: int, messages: int, rebuild: bool) -> tuple[Path, Path, bool]:
    """The cached store, its configuration file, and whether it is still to be built."""
    # Keyed by the schema's text too: a step changed before release keeps its number.
    schema = hashlib.sha256("".join(MIGRATIONS).encode()).hexdigest()[:8]
    name = f"motcua-report-bench-s{SCHEMA_VERSION}-{schema}-{dossiers}-{messages}.db"
    cache = Path(tempfile.gettempdir()) / name
    fresh = rebuild or not cache.exists() or _version(cache) != SCHEMA_VERSION  # half-built
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{cache}{suffix}").unlink(missing_ok=True)
    config = cache.with_suffix(".yaml")
    agencies = "".join(f"  {a}: {{name: Cơ quan {a}}}\n" for a in AGENCIES)
    config.write_text(CONFIG.format(db=cache, agencies=agencies), encoding="utf-8")
    return cache, config, fresh


async def measure(dossiers: int, messages: int, rebuild: bool) -> None:
    cache, config, fresh = prepare(dossiers, messages, rebuild)
    built = await build(cache, dossiers, messages) if fresh else {}
    year = (date(YEAR, 1, 1), date(YEAR, 12, 31))
    month = (date(YEAR, 6, 1), date(YEAR, 6, 30))
    everything = ("agency", "procedure", "day")
    async with Store.open(cache, readonly=True) as store:
        figures = Figures(store.database, TZ, 450)
        held = await store.database.read(_count)
        year_s, year_rows = await best_of(lambda: figures.table(*year, everything))
        procs_s, procs = await best_of(lambda: figures.table(*year, ("agency", "procedure")))
        month_s, month_rows = await best_of(lambda: figures.table(*month, everything))
        failed_s, failed = await best_of(lambda: figures.failed(*month))
    command, command_s, lines = command_time(config, "agency,procedure,day")
    _, short_s, short_lines = command_time(config, "agency,procedure")
    writes = await write_cost()
    received = sum(r.dossiers_received for r in year_rows)
    print(shlex.join([sys.executable, *sys.argv]))
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    print(f"  {os.cpu_count()} cores, load average {load} (figures scale with it)")
    if built:
        print(f"  filled in {built['filled']:.0f} s; the figures' migration (backfill) took "
              f"{built['migrated']:.1f} s")  # fmt: skip
    print(f"  {dossiers:,} dossiers, {messages:,} messages, {held:,} figure rows "
          f"(agency × procedure × day); {received:,} received in {YEAR}")  # fmt: skip
    print(f"  {shlex.join(command)}")
    print(f"    {command_s:.2f} s, {lines:,} rows (median of 3, own process: start-up included)")
    print(f"    --by agency,procedure: {short_s:.2f} s, {short_lines:,} rows")
    print(f"  Figures.table, year, by agency,procedure,day: {year_s * 1000:.0f} ms, "
          f"{len(year_rows):,} rows")  # fmt: skip
    print(f"  Figures.table, year, by agency,procedure: {procs_s * 1000:.0f} ms, "
          f"{len(procs):,} rows")  # fmt: skip
    print(f"  Figures.table, June, by agency,procedure,day: {month_s * 1000:.0f} ms, "
          f"{len(month_rows):,} rows")  # fmt: skip
    print(f"  Figures.failed, June, first page: {failed_s * 1000:.0f} ms, {len(failed)} rows")
    print(f"  intake commits (dossier + notice, 100 a transaction): "
          f"{writes['with_triggers']:,.0f}/s with the figures' triggers, "
          f"{writes['without_triggers']:,.0f}/s without")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=5_000_000)
    parser.add_argument("--rebuild", action="store_true", help="ignore a cached store")
    args = parser.parse_args()
    asyncio.run(measure(args.dossiers, args.messages, args.rebuild))


if __name__ == "__main__":
    main()
