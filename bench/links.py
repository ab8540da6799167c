"""Throughput of one SMSC account with 1, 2 and 4 sessions (`binds`), and the account cap.

Starts the bundled simulator (`motcua-sms smsc-sim`) as its own process, then for each
session count sends N messages through one `Account` (window 10 a session) and waits
until every receipt is in. Prints the simulator's CPU share over each run, so a figure
limited by the simulator rather than the gateway shows as such. A last run caps the
account (`account_tps`) below what its sessions could write together.

    python bench/links.py [--messages 5000] [--binds 1 2 4] [--window 10]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shlex
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import start_simulator, stop_processes
from smpp_throughput import free_port, wait_port

from gateway.ops.logs import configure_logging
from gateway.smpp.account import Account
from gateway.smpp.inbound import Inbound
from gateway.smpp.receipt import Receipt
from gateway.smpp.session import SessionConfig, Submit
from gateway.smpp.text import encode

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def run_one(
    port: int, binds: int, window: int, messages: int, sim_pid: int, tps: float, cap: float
) -> tuple[float, float, float]:
    receipts = 0
    done = asyncio.Event()

    async def on_deliver(item: Inbound, _link: str) -> None:
        nonlocal receipts
        if isinstance(item, Receipt):
            receipts += 1
            if receipts == messages:
                done.set()

    config = SessionConfig(
        host="127.0.0.1", port=port, system_id="motcua", password="secret", window=window,
        tps=tps,
    )  # fmt: skip
    part = encode("Thong bao: Ho so cua quy Ong/Ba (0101701234) da duoc giai quyet xong.")
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(messages):
        queue.put_nowait(i)
    async with Account("bench", config, on_deliver, binds=binds, account_tps=cap) as account:
        while not all(s.bound for s in account.sessions):
            await account.wait_bound(10)
            await asyncio.sleep(0.01)

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                sm = Submit("MotcuaSMS", f"849{i % 100_000_000:08d}", part.parts[0])
                await account.submit(sm)

        cpu0, start = cpu_seconds(sim_pid), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(window * binds)))
        submitted = time.perf_counter() - start
        await asyncio.wait_for(done.wait(), 300)
        total = time.perf_counter() - start
        sim_share = (cpu_seconds(sim_pid) - cpu0) / total
    return messages / submitted, messages / total, sim_share


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--binds", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--window", type=int, default=10)
    args = parser.parse_args()
    configure_logging(logging.WARNING)

    port, ctl = free_port(), free_port()
    sim = await start_simulator(port, ctl)
    try:
        await wait_port(port)
        print(f"$ python {' '.join(shlex.quote(a) for a in sys.argv)}")
        print(f"one account vs bundled smsc-sim (separate process), {args.messages} messages,")
        print(
            f"window {args.window} a session, GSM-7 single part, receipts on; "
            f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"
        )
        print(
            f"{'sessions':>8} | {'tps/session':>11} | {'account_tps':>11} | "
            f"{'submit_sm/s':>11} | {'with receipts':>13} | {'sim CPU':>7}"
        )
        runs = [(b, 0.0, 0.0) for b in args.binds] + [(max(args.binds), 100.0, 250.0)]
        for binds, tps, cap in runs:
            messages = args.messages if cap == 0 else min(args.messages, 1500)
            submit_rate, full_rate, share = await run_one(
                port, binds, args.window, messages, sim.pid, tps, cap
            )
            print(
                f"{binds:>8} | {tps or '-':>11} | {cap or '-':>11} | {submit_rate:>11,.0f} | "
                f"{full_rate:>13,.0f} | {share:>6.0%}"
            )
    finally:
        await stop_processes([sim])


if __name__ == "__main__":
    asyncio.run(main())
