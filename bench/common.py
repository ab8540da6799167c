"""What several benchmarks start or send the same way: the simulator as its own
process, and a stream of SMS jobs published at QoS 1."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from typing import Any

import aiomqtt

from tests.support.broker import INSTALL_HINT, Broker, find_mosquitto


def start_broker() -> Broker:
    """A mosquitto of the benchmark's own on a free port (the test fixtures' set-up);
    stop it with `close()`."""
    executable = find_mosquitto()
    if executable is None:
        raise SystemExit(INSTALL_HINT)
    broker = Broker(executable)
    broker.start()
    return broker


async def stop_processes(procs: list[asyncio.subprocess.Process]) -> None:
    """Terminate what a run started, last started first, so that the daemon goes before the
    simulator it is bound to."""
    for proc in reversed(procs):
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()


async def start_simulator(
    smsc_port: int, control_port: int, **popen: Any
) -> asyncio.subprocess.Process:
    """`motcua-sms smsc-sim` with no TPS cap and receipts at once, in its own process so
    that the SMSC side never shares the measured loop."""
    popen.setdefault("stderr", asyncio.subprocess.DEVNULL)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli", "smsc-sim",
        "--port", str(smsc_port), "--control-port", str(control_port),
        "--receipt-delay", "0",
        **popen,
    )  # fmt: skip


async def publish_jobs(
    port: int,
    job: Callable[[int], bytes],
    count: int,
    *,
    identifier: str,
    rate: float = 0.0,
    concurrency: int = 100,
) -> float:
    """Publish job(0) … job(count - 1) to motcua/SCT/sms at QoS 1, `concurrency` awaiting
    their PUBACK at once, `rate` a second (0: as fast as the broker takes them); returns
    the seconds it took, every PUBACK in."""
    room = asyncio.Semaphore(concurrency)
    started = time.perf_counter()
    async with aiomqtt.Client("127.0.0.1", port, identifier=identifier) as client:
        client.pending_calls_threshold = concurrency + 1  # else a warning per publish

        async def one(n: int) -> None:
            try:
                await client.publish("motcua/SCT/sms", job(n), qos=1)
            finally:
                room.release()

        tasks = []
        for n in range(count):
            if rate > 0:
                await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
            await room.acquire()
            tasks.append(asyncio.create_task(one(n)))
        await asyncio.gather(*tasks)
    return time.perf_counter() - started
