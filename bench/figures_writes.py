"""What the reconciliation figures' triggers cost the writers: intake's commits and the
apology run's queueing, on a fresh store, through the store's own repositories.

- intake: batches of `--size` (100) dossier events, each a dossier row and its result
  notice in one transaction (`Dossiers.record_intake`, as intake commits a batch): events
  a second;
- apology: `--apologies` (20,000) apologies for dossiers the mirror holds, queued slice
  by slice (`Apologies.queue_apologies`, `SLICE` each) and the run recorded, as the run
  commits them: seconds for the queue and commit step alone (composing is not timed).

Each measure runs `--runs` times (3) on a new store; the medians are printed, as wall
time and as the process's CPU time (the store's thread is in it): on a shared machine the
wall time follows the others' load, the CPU time much less. To compare two versions in
one sitting, copy this file into the other checkout's bench/ and run both alternately:

    python bench/figures_writes.py [--batches 100] [--size 100] [--apologies 20000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gateway
from gateway.compose.apology import SLICE
from gateway.domain.dossier import DossierRow
from gateway.domain.message import NewMessage
from gateway.store.store import Store

WHEN = "2026-11-23T09:00:00+07:00"
CLOCK = 1_795_400_000.0  # a fixed time: the figures' day never depends on the machine's


def _dossier(n: int, status: str) -> DossierRow:
    receipt = f"R{n:08d}"
    return DossierRow(
        receipt, receipt, "SCT", "Cấp phép", f"1.{n % 60:03d}", "84905123456", "Thẩm định",
        status, "2026-11-20", False, WHEN, None,
    )  # fmt: skip


def _message(n: int, kind: str, ref: str) -> NewMessage:
    return NewMessage(
        agency="SCT", ref=ref, kind=kind, source="HCC", priority=1, state="queued",
        not_before=0.0, expires_at=9e9, phone="84905123456", text="Thong bao", segments=1,
        receipt_no=f"R{n:08d}", procedure="Cấp phép",
    )  # fmt: skip


async def intake(work: Path, batches: int, size: int) -> tuple[float, float]:
    """Events a second, `size` a transaction, and CPU µs an event."""
    async with Store.open(work / "intake.db", clock=lambda: CLOCK) as store:
        cpu = time.process_time()
        started = time.perf_counter()
        for b in range(batches):
            numbers = range(b * size, (b + 1) * size)
            await store.dossiers.record_intake(
                dossiers=[_dossier(n, "result_ready") for n in numbers],
                messages=[_message(n, "result", f"n{n}") for n in numbers],
            )
        wall = time.perf_counter() - started
        return batches * size / wall, (time.process_time() - cpu) / (batches * size) * 1e6


async def apology(work: Path, count: int) -> tuple[float, float]:
    """Seconds (wall, CPU) to queue `count` apologies slice by slice and record the run."""
    async with Store.open(work / "apology.db", clock=lambda: CLOCK) as store:
        for at in range(0, count, 1000):
            rows = [_dossier(n, "processing") for n in range(at, min(count, at + 1000))]
            await store.dossiers.record_intake(dossiers=rows)
        messages = [_message(n, "apology", f"apology:{n}") for n in range(count)]
        slices = [messages[at : at + SLICE] for at in range(0, count, SLICE)]
        runs = store.apologies
        cpu = time.process_time()
        started = time.perf_counter()
        queued = 0
        for piece in slices[:-1]:
            queued += await runs.queue_apologies(piece)
        await runs.record_apology_run("2026-11-23", "2026-11-20", slices[-1], queued)
        return time.perf_counter() - started, time.process_time() - cpu


async def measure(batches: int, size: int, apologies: int, runs: int) -> dict[str, list[float]]:
    got: dict[str, list[float]] = {"rate": [], "event_cpu": [], "apology": [], "apology_cpu": []}
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="motcua-figures-writes-") as work:
            rate, cpu = await intake(Path(work), batches, size)
            got["rate"].append(rate)
            got["event_cpu"].append(cpu)
            wall, cpu = await apology(Path(work), apologies)
            got["apology"].append(wall)
            got["apology_cpu"].append(cpu)
    return got


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--apologies", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    got = asyncio.run(measure(args.batches, args.size, args.apologies, args.runs))
    median = {k: statistics.median(v) for k, v in got.items()}
    print(f"code: {Path(gateway.__file__).parent}, median of {args.runs}")
    print(
        f"intake ({args.size} a transaction): {median['rate']:,.0f} events/s, "
        f"{median['event_cpu']:.0f} µs CPU an event "
        f"(runs: {', '.join(f'{r:,.0f}' for r in got['rate'])} events/s)"
    )
    print(
        f"apology queue+commit of {args.apologies:,}: {median['apology']:.2f} s, "
        f"{median['apology_cpu']:.2f} s CPU "
        f"(runs: {', '.join(f'{s:.2f}' for s in got['apology'])} s)"
    )


if __name__ == "__main__":
    main()
