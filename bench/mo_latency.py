"""MO → reply latency: deliver_sm sent by the SMSC → the reply's submit_sm received by it.

The daemon runs in its own process on a store holding N dossiers (default 1,000,000);
this process is the SMSC (the bundled simulator) and injects MCKH lookups for random
dossiers at a steady rate, each from its own number (so no rate limit applies), and
times each reply on the simulator's clock. Real mosquitto, as in production.

    python bench/mo_latency.py [--dossiers 1000000] [--mos 2000] [--rate 50]
    python bench/mo_latency.py --under-load 20000     # while 20,000 MT jobs go at full rate

`--under-load N` publishes N SMS jobs (one GSM-7 part each, to numbers apart from the MO
senders') as fast as the broker takes them, 100 awaiting PUBACK at a time, and starts
the MOs once the first of them reaches an SMSC: only MOs sent before the last MT
submit_sm (the ones answered while the MT benchmark ran at full rate) are timed. The
load goes where it would not slow the clock that times the replies: its jobs are
published by a process of their own, and the daemon sends them by a second link (routed
by their prefix, 0903) to the node-smpp SMSC (tests/interop/smsc.js), another process;
the MOs and their replies stay on the simulator in this process, which then carries only
them. Each process's CPU share is printed with the figures.
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
from smscs import Smsc, cpu_seconds, start_smsc

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
    load_smsc: Smsc | None = None
    publisher: asyncio.subprocess.Process | None = None
    try:
        async with SmscSimulator(SimConfig(receipt_delay=0.0)) as smsc:
            if under_load:
                load_smsc = await start_smsc("node")
            config = work / "gateway.yaml"
            config.write_text(
                links(smsc.port, load_smsc.port if load_smsc else None)
                + f"mqtt: {{port: {broker.port}, client_id: bench-mo}}\n"
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
                if daemon.returncode is not None:
                    raise RuntimeError(f"the daemon exited (log: {work}/daemon.log)")
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
            pid = daemon.pid

            loop = asyncio.get_running_loop()
            sent: dict[str, float] = {}
            rng = random.Random(1)

            async def one(n: int) -> None:
                phone = f"8491{n:07d}"
                sent[phone] = loop.time()
                number = receipt(rng.randrange(dossiers))
                await smsc.inject_mo(phone, "8083", f"MCKH {number}")

            load_end = float("inf")
            watch: asyncio.Task[float] | None = None
            cpu_before = time.process_time()
            daemon_before = cpu_seconds(pid)
            wall_before = time.perf_counter()
            if under_load:
                assert load_smsc is not None
                publisher = await asyncio.create_subprocess_exec(
                    sys.executable, __file__, "--publish-load", str(broker.port),
                    str(under_load),
                )  # fmt: skip
                while await load_smsc.submits() < 1:
                    await asyncio.sleep(0.005)
                watch = asyncio.create_task(last_submit(load_smsc, under_load))
            tasks = []
            interval = 1.0 / rate
            start = loop.time()
            for n in range(mos):
                tasks.append(asyncio.create_task(one(n)))
                await asyncio.sleep(max(0.0, start + (n + 1) * interval - loop.time()))
            await asyncio.gather(*tasks)
            deadline = loop.time() + 60
            while len(smsc.records) < mos and loop.time() < deadline:
                await asyncio.sleep(0.05)
            if watch is not None:
                load_end = await asyncio.wait_for(watch, 600)
            wall = time.perf_counter() - wall_before
            sim_share = (time.process_time() - cpu_before) / wall
            daemon_share = (cpu_seconds(pid) - daemon_before) / wall
            load_share = load_smsc.cpu() / wall if load_smsc else 0.0
            mt_submits = await load_smsc.submits() if load_smsc else 0

            latencies = [
                (r.at - sent[r.destination]) * 1000
                for r in smsc.records
                if r.destination in sent and sent[r.destination] <= load_end
            ]
    finally:
        if daemon is not None and daemon.returncode is None:
            daemon.terminate()
            await daemon.wait()
        if publisher is not None and publisher.returncode is None:
            publisher.terminate()
            await publisher.wait()
        if load_smsc is not None:
            await load_smsc.stop()
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
        "daemon_cpu_share": daemon_share,
        "load_smsc_cpu_share": load_share,
    }


def links(mo_port: int, load_port: int | None) -> str:
    """The daemon's SMSC links: the simulator alone, or, under load, the MT load's numbers
    (0903…) routed to the node-smpp SMSC and the rest (the MOs' replies go back on the
    link the MO came in by anyway) to the simulator."""
    if load_port is None:
        return f"smpp: {{port: {mo_port}, password: secret, tps: 0}}\n"
    return (
        "smsc:\n"
        f"  - {{id: load, port: {load_port}, password: secret, tps: 0,"
        " routes: [{prefix: '84903'}]}\n"
        f"  - {{id: mo, port: {mo_port}, password: secret, tps: 0, shortcodes: ['8083'],"
        " routes: [{default: true}]}\n"
    )


async def last_submit(smsc: Smsc, count: int) -> float:
    """The loop time at which `smsc` had answered `count` submit_sm (looked at every 5 ms)."""
    loop = asyncio.get_running_loop()
    while await smsc.submits() < count:
        await asyncio.sleep(0.005)
    return loop.time()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=1_000_000)
    parser.add_argument("--mos", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=50.0, help="MOs per second")
    parser.add_argument(
        "--under-load", type=int, default=0, help="MT jobs published at full rate meanwhile"
    )
    parser.add_argument("--publish-load", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.publish_load:  # the load's publisher, a process of its own
        port, count = args.publish_load
        await publish_jobs(port, mt_job, count, identifier="bench-load")
        return
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
        f"replies timed: {got['replies']} of {args.mos}{load}; CPU, share of one core: "
        f"this process (simulator of the MOs) {got['sim_cpu_share']:.0%}, daemon "
        f"{got['daemon_cpu_share']:.0%}, node-smpp SMSC of the load "
        f"{got['load_smsc_cpu_share']:.0%}; load {os.getloadavg()[0]:.2f}"
    )
    print(
        "deliver_sm sent → reply submit_sm received, ms: "
        f"p50 {got['p50_ms']:.2f}  p99 {got['p99_ms']:.2f}  max {got['max_ms']:.2f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
