"""A store holding a year of a large province: 5,000,000 messages, 1,000,000 dossiers.

Built once through the store's own schema (every migration and index), then filled with
bulk `executemany` in one transaction per table, and cached under the temporary
directory by schema version and size, so the benchmarks that start from it (e2e_mt.py
`--store`, run_all.py's store-size rows) copy it instead of building it again.

The messages are the year's traffic, finished: delivered notices of the bench's own
agencies over the past twelve months, each with its submitted part and the part's two
receipt keys (as the sender writes them), and the events that caused them; the dossiers
are spread over every status and due date. Nothing in it is queued or waiting for a
receipt, so a run on it sends only its own messages, over tables that hold millions.

    python bench/big_store.py [--messages 5000000] [--dossiers 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.store.schema import SCHEMA_VERSION
from gateway.store.store import Store

YEAR_AGO = 1_764_547_200.0  # 2025-12-01 00:00 UTC
YEAR = 365 * 86400.0
STATUSES = ("processing", "additional_required", "result_ready", "returned", "rejected")
MESSAGE = (
    "INSERT INTO messages (agency, ref, event_id, receipt_no, kind, procedure, phone, source,"
    " text, priority, state, reason, segments, concat_ref, not_before, expires_at, created_at,"
    " updated_at, digest) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
DOSSIER = (
    "INSERT INTO dossiers (receipt_key, receipt_no, agency, procedure, procedure_code, phone,"
    " step, status, due_date, same_day, occurred_at, finished_on)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
)


def cached_path(messages: int, dossiers: int) -> Path:
    return Path(tempfile.gettempdir()) / (
        f"motcua-bench-store-s{SCHEMA_VERSION}-{messages}m-{dossiers}d.db"
    )


def _messages(count: int) -> Iterator[tuple[object, ...]]:
    for n in range(count):
        at = YEAR_AGO + YEAR * n / count
        agency = "SCT" if n % 2 else "STP"
        yield (
            agency, f"old-{n}:result", f"old-{n}", f"02{n:08d}", "result",
            "Cấp Giấy phép kinh doanh", f"8490{n % 10_000_000:07d}", "MotcuaSMS",
            f"Thong bao: Ho so cua quy Ong/Ba (02{n:08d}) da duoc giai quyet xong.",
            1, "delivered", None, 1, 0, at, at + 172_800, at, at + 5, None,
        )  # fmt: skip


def _parts(count: int) -> Iterator[tuple[object, ...]]:
    for n in range(1, count + 1):
        yield (n, 1, f"{0x10000000 + n:x}", "delivered")


def _part_keys(count: int) -> Iterator[tuple[object, ...]]:
    for n in range(1, count + 1):
        hex_id = f"{0x10000000 + n:x}"
        yield (f"s:{hex_id}", n, 1)
        yield (f"n:{0x10000000 + n}", n, 1)


def _events(count: int) -> Iterator[tuple[object, ...]]:
    for n in range(count):
        yield (f"old-{n}", "SCT" if n % 2 else "STP", f"02{n:08d}", 1, YEAR_AGO + n, None)


def _dossiers(count: int) -> Iterator[tuple[object, ...]]:
    for n in range(count):
        day = 1 + n % 28
        yield (
            f"03{n:08d}", f"03{n:08d}", "SCT" if n % 2 else "STP", "Cấp Giấy phép kinh doanh",
            None, f"8491{n % 10_000_000:07d}", "Thẩm định hồ sơ", STATUSES[n % len(STATUSES)],
            f"2026-{1 + n % 12:02d}-{day:02d}", 0, "2026-01-05T09:00:00+07:00", None,
        )  # fmt: skip


async def build(messages: int, dossiers: int, path: Path) -> float:
    """Build the store at `path` (replacing what is there); seconds taken."""
    started = time.perf_counter()
    partial = path.with_suffix(".partial")
    for stale in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        stale.unlink(missing_ok=True)
    async with Store.open(partial):
        pass
    db = sqlite3.connect(partial)
    db.execute("PRAGMA synchronous=OFF")  # built once; a crash means building it again
    with db:
        db.executemany(MESSAGE, _messages(messages))
        db.executemany("INSERT INTO parts VALUES (?, ?, ?, ?)", _parts(messages))
        db.executemany("INSERT INTO part_keys VALUES (?, ?, ?)", _part_keys(messages))
        db.executemany(
            "INSERT INTO events (event_id, agency, receipt_key, applied, received_at, digest)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            _events(messages),
        )
        db.executemany(DOSSIER, _dossiers(dossiers))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    partial.rename(path)
    return time.perf_counter() - started


async def ensure(messages: int = 5_000_000, dossiers: int = 1_000_000) -> Path:
    """The cached store of that size, built if missing."""
    path = cached_path(messages, dossiers)
    if not path.exists():
        seconds = await build(messages, dossiers, path)
        print(f"built {path} in {seconds:.0f} s", file=sys.stderr)
    return path


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5_000_000)
    parser.add_argument("--dossiers", type=int, default=1_000_000)
    args = parser.parse_args()
    path = await ensure(args.messages, args.dossiers)
    print(f"{path}: {path.stat().st_size / 1e6:,.0f} MB")


if __name__ == "__main__":
    asyncio.run(main())
