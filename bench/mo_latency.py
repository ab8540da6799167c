"""MO → reply latency: deliver_sm sent by the SMSC → the reply's submit_sm received by it.

The daemon runs in its own process on a store holding N dossiers (default 1,000,000);
this process is the SMSC (the bundled simulator) and injects MCKH lookups for random
dossiers at a steady rate, each from its own number (so no rate limit applies), and
times each reply on the simulator's clock. Real mosquitto, as in production.

    python bench/mo_latency.py [--dossiers 1000000] [--mos 2000] [--rate 50]
    python bench/mo_latency.py --under-load 20000     # while 20,000 MT jobs go at full rate

`--under-load N` publishes N SMS jobs (one GSM-7 part each, to numbers apart from the MO
senders') as fast as the broker takes them, 100 awaiting PUBACK at a time, and starts
the MOs once the first of them reaches the SMSC: only MOs sent before the last MT
submit_sm counts (the ones answered while the MT benchmark ran at full rate) are timed.
The simulator runs in this process, beside the publisher: its CPU share is this
process's, printed with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shlex
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import publish_jobs, start_broker

from gateway.smpp.sim import SimConfig, SmscSimulator
from gateway.store.store import Store


def receipt(n: int) -> str:
    return f"000.00.06.H56-{231000 + n // 10_000:06d}-{n % 10_000:04d}"


def dossier(n: int) -> tuple[object, ...]:
    return (
        receipt(n).upper(), receipt(n), "SCT", "Cấp Giấy phép kinh doanh", None,
        f"8490{n % 10_000_000:07d}", "Thẩm định hồ sơ", "processing",
        "2026-12-01" if n % 3 else "2026-11-01", 0, "2026-11-20T09:00:00+07:00", None,
    )  # fmt: skip


# The columns the rows give, by name: later schemas add columns (notice_owed) with defaults.
DOSSIER_INSERT = (
    "INSERT INTO dossiers (receipt_key, receipt_no, agency, procedure, procedure_code, phone,"
    " step, status, due_date, same_day, occurred_at, finished_on)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
)


async def build_store(path: Path, count: int) -> float:
    """The schema through the store itself, then the dossiers in one bulk transaction."""
    async with Store.open(path):
        pass
    started = time.perf_counter()
    db = sqlite3.connect(path)
    rows = (dossier(n) for n in range(count))
    with db:
        db.executemany(DOSSIER_INSERT, rows)
    db.close()
    return time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def mt_job(n: int) -> bytes:
    """An MT job of the load: to 0903xxxxxx (84903…), never an MO sender's 8491…."""
    return json.dumps(
        {"id": f"load-{n}", "to": f"0903{n % 1_000_000:06d}", "text": "Thong bao"}
    ).encode()


async def measure(
    *, dossiers: int = 1_000_000, mos: int = 2000, rate: float = 50.0, under_load: int = 0
) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="motcua-mo-bench-"))
    db = work / "gateway.db"
    built = await build_store(db, dossiers)
    broker = start_broker()
    daemon = None
    try:
        async with SmscSimulator(SimConfig(receipt_delay=0.0)) as smsc:
            config = work / "gateway.yaml"
            config.write_text(
                f"smpp: {{port: {smsc.port}, password: secret, tps: 0}}\n"
                f"mqtt: {{port: {broker.port}, client_id: bench-mo}}\n"
                f"store: {{path: {db}}}\n"
                # Quiet hours off: the MT load goes at any hour the benchmark runs.
                "schedule: {quiet_hours: 'off'}\n"
                "agencies: {SCT: {name: Sở Công Thương}}\n",
                encoding="utf-8",
            )
            env = {**os.environ, "MOTCUA_SMS_LOG_FORMAT": "json"}
            daemon = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "gateway.cli", "run", "-c", str(config),
                stderr=(work / "daemon.log").open("wb"), env=env,
            )  # fmt: skip
            while smsc.stats.binds < 1:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)

            loop = asyncio.get_running_loop()
            sent: dict[str, float] = {}
            rng = random.Random(1)

            async def one(n: int) -> None:
                phone = f"8491{n:07d}"
                sent[phone] = loop.time()
                number = receipt(rng.randrange(dossiers))
                await smsc.inject_mo(phone, "8083", f"MCKH {number}")

            load: asyncio.Task[float] | None = None
            cpu_before = time.process_time()
            wall_before = time.perf_counter()
            if under_load:
                load = asyncio.create_task(
                    publish_jobs(broker.port, mt_job, under_load, identifier="bench-load")
                )
                while not any(r.destination.startswith("84903") for r in smsc.records):
                    await asyncio.sleep(0.005)
            tasks = []
            interval = 1.0 / rate
            start = loop.time()
            for n in range(mos):
                tasks.append(asyncio.create_task(one(n)))
                await asyncio.sleep(max(0.0, start + (n + 1) * interval - loop.time()))
            await asyncio.gather(*tasks)
            deadline = loop.time() + 60
            while len(smsc.records) < mos + under_load and loop.time() < deadline:
                await asyncio.sleep(0.05)
            if load is not None:
                await load
            load_end = max(
                (r.at for r in smsc.records if r.destination.startswith("84903")),
                default=float("inf"),
            )
            sim_share = (time.process_time() - cpu_before) / (time.perf_counter() - wall_before)
            mt_submits = sum(r.destination.startswith("84903") for r in smsc.records)

            latencies = [
                (r.at - sent[r.destination]) * 1000
                for r in smsc.records
                if r.destination in sent and sent[r.destination] <= load_end
            ]
    finally:
        if daemon is not None and daemon.returncode is None:
            daemon.terminate()
            await daemon.wait()
        broker.close()
    if not latencies:
        raise RuntimeError(f"no replies (log: {work}/daemon.log)")
    return {
        "dossiers": dossiers,
        "mos": mos,
        "rate": rate,
        "built_in": built,
        "replies": len(latencies),
        "p50_ms": statistics.median(latencies),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies),
        "under_load": under_load,
        "mt_submits": mt_submits,
        "sim_cpu_share": sim_share,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=1_000_000)
    parser.add_argument("--mos", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=50.0, help="MOs per second")
    parser.add_argument(
        "--under-load", type=int, default=0, help="MT jobs published at full rate meanwhile"
    )
    args = parser.parse_args()
    got = await measure(
        dossiers=args.dossiers, mos=args.mos, rate=args.rate, under_load=args.under_load
    )
    print(f"$ python {' '.join(shlex.quote(a) for a in sys.argv)}")
    print(
        f"{args.dossiers:,} dossiers in the mirror (bulk-loaded in {got['built_in']:.1f} s); "
        f"{args.mos} MCKH lookups at {args.rate:g}/s; {os.cpu_count()} cores"
    )
    load = (
        f"; timed while {got['mt_submits']:,} MT submits went at full rate"
        if args.under_load
        else ""
    )
    print(
        f"replies timed: {got['replies']} of {args.mos}{load}; simulator + publisher "
        f"{got['sim_cpu_share']:.0%} of one core; load {os.getloadavg()[0]:.2f}"
    )
    print(
        "deliver_sm sent → reply submit_sm received, ms: "
        f"p50 {got['p50_ms']:.2f}  p99 {got['p99_ms']:.2f}  max {got['max_ms']:.2f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
