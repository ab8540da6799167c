"""submit_sm → submit_sm_resp → delivery receipt throughput of one session.

Starts the bundled simulator (`motcua-sms smsc-sim`) as its own process, so that the
SMSC side does not share our event loop, then for each window size sends N messages
through one transceiver session and waits until every receipt is in.

    python bench/smpp_throughput.py [--messages 5000] [--windows 1 10 50]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import shlex
import socket
import subprocess
import sys
import time

from gateway.ops.logs import configure_logging
from gateway.smpp.inbound import Inbound
from gateway.smpp.receipt import Receipt
from gateway.smpp.session import Session, SessionConfig, Submit
from gateway.smpp.text import encode


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _r, w = await asyncio.open_connection("127.0.0.1", port)
            w.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


async def run_one(port: int, window: int, messages: int) -> tuple[float, float]:
    receipts = 0
    done = asyncio.Event()

    async def on_deliver(item: Inbound) -> None:
        nonlocal receipts
        if isinstance(item, Receipt):
            receipts += 1
            if receipts == messages:
                done.set()

    config = SessionConfig(
        host="127.0.0.1", port=port, system_id="motcua", password="secret", window=window
    )
    part = encode("Thong bao: Ho so cua quy Ong/Ba (0101701234) da duoc giai quyet xong.")
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(messages):
        queue.put_nowait(i)

    async with Session(config, on_deliver) as session:
        await session.wait_bound(10)

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                await session.submit(
                    Submit(
                        source="MotcuaSMS",
                        destination=f"849{i % 100_000_000:08d}",
                        short_message=part.parts[0],
                    )
                )

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(window)))
        submitted = time.perf_counter() - start
        await asyncio.wait_for(done.wait(), 120)
        total = time.perf_counter() - start
    return messages / submitted, messages / total


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--windows", type=int, nargs="+", default=[1, 10, 50])
    args = parser.parse_args()
    configure_logging(logging.WARNING)

    port, ctl = free_port(), free_port()
    cmd = [
        sys.executable,
        "-m",
        "gateway.cli",
        "smsc-sim",
        "--port",
        str(port),
        "--control-port",
        str(ctl),
        "--receipt-delay",
        "0",
    ]
    env = {**os.environ, "MOTCUA_SMS_LOG_FORMAT": "json"}
    sim = await asyncio.create_subprocess_exec(*cmd, stderr=subprocess.DEVNULL, env=env)
    try:
        await wait_port(port)
        print(f"$ python {' '.join(shlex.quote(a) for a in sys.argv)}")
        print(f"one session vs bundled smsc-sim (separate process), {args.messages} messages,")
        print(
            f"GSM-7 single part, receipts on; {os.cpu_count()} cores, Python "
            f"{sys.version.split()[0]}"
        )
        print(f"{'window':>6} | {'submit_sm/s':>12} | {'with receipts, msg/s':>21}")
        for window in args.windows:
            submit_rate, full_rate = await run_one(port, window, args.messages)
            print(f"{window:>6} | {submit_rate:>12,.0f} | {full_rate:>21,.0f}")
    finally:
        sim.terminate()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(sim.wait(), 5)


if __name__ == "__main__":
    asyncio.run(main())
