"""End-to-end MT: N dossier events published → N notices delivered and reported.

Real mosquitto, the bundled simulator and the daemon each in a process of their own
(as in production), receipts on, no TPS cap. The clock starts before the first publish
and stops when the N-th `delivered` status has arrived on MQTT.

    python bench/e2e_mt.py [--events 5000] [--window 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

import aiomqtt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.broker import Broker, find_mosquitto, free_port


def event(n: int) -> bytes:
    return json.dumps(
        {
            "event_id": f"SCT-{n}-9",
            "receipt_no": f"01{n:08d}",
            "agency": "SCT",
            "procedure": "Cấp Giấy chứng nhận đủ điều kiện kinh doanh hóa chất",
            "phone": f"09{n % 100_000_000:08d}",
            "step": "Trả kết quả",
            "status": 9,
            "due_date": "2026-11-25",
            "occurred_at": "2026-11-22T10:00:00+07:00",
        }
    ).encode()


async def wait_port(port: int) -> None:
    for _ in range(200):
        try:
            _r, w = await asyncio.open_connection("127.0.0.1", port)
            w.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--window", type=int, default=10)
    args = parser.parse_args()

    executable = find_mosquitto()
    if executable is None:
        raise SystemExit("mosquitto is not installed: apt-get install mosquitto")
    broker = Broker(executable)
    broker.start()
    work = Path(tempfile.mkdtemp(prefix="motcua-bench-"))
    smsc_port = free_port()
    env = {**os.environ, "MOTCUA_SMS_LOG_FORMAT": "json"}
    procs = []
    try:
        procs.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "gateway.cli",
                "smsc-sim",
                "--port",
                str(smsc_port),
                "--control-port",
                "0",
                "--receipt-delay",
                "0",
                stderr=asyncio.subprocess.DEVNULL,
                env=env,
            )
        )
        await wait_port(smsc_port)
        config = work / "gateway.yaml"
        config.write_text(
            f"smpp: {{port: {smsc_port}, password: secret, window: {args.window}, tps: 0}}\n"
            f"mqtt: {{port: {broker.port}, client_id: bench-gw}}\n"
            f"store: {{path: {work / 'gateway.db'}}}\n"
            "schedule: {quiet_hours: 'off'}\n"
            "agencies: {SCT: {name: Sở Công Thương}}\n",
            encoding="utf-8",
        )
        procs.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "gateway.cli",
                "run",
                "-c",
                str(config),
                stderr=asyncio.subprocess.DEVNULL,
                env=env,
            )
        )

        delivered: set[str] = set()
        done = asyncio.Event()
        async with aiomqtt.Client("127.0.0.1", broker.port) as watch:
            await watch.subscribe("motcua/+/status", qos=1)
            await wait_port(smsc_port)
            await asyncio.sleep(1.0)  # the daemon binds and subscribes

            last: dict[str, float] = {}
            seen: dict[str, int] = {}

            async def collect() -> None:
                async for message in watch.messages:
                    status = json.loads(message.payload)
                    last[status["state"]] = time.perf_counter()
                    seen[status["state"]] = seen.get(status["state"], 0) + 1
                    if status["state"] == "delivered":
                        delivered.add(status["id"])
                        if len(delivered) == args.events:
                            done.set()

            collector = asyncio.create_task(collect())
            start = time.perf_counter()
            async with aiomqtt.Client("127.0.0.1", broker.port) as pub:
                for n in range(args.events):
                    await pub.publish("motcua/SCT/dossier", event(n), qos=1)
            published = time.perf_counter() - start
            while not done.is_set():
                try:
                    await asyncio.wait_for(done.wait(), 10)
                except TimeoutError:
                    print(
                        f"... {len(delivered)} delivered after "
                        f"{time.perf_counter() - start:.0f} s (log: {work}/daemon.log)",
                        file=sys.stderr,
                    )
            total = time.perf_counter() - start
            collector.cancel()

        print(f"$ python {' '.join(shlex.quote(a) for a in sys.argv)}")
        print(
            f"{args.events} dossier events → notices delivered, window {args.window}, "
            f"GSM-7 single part; {os.cpu_count()} cores"
        )
        print(f"published in {published:.2f} s; all delivered statuses in {total:.2f} s")
        print(
            "last status of each state at: "
            + ", ".join(
                f"{state} {seen[state]} by {at - start:.2f} s" for state, at in last.items()
            )
        )
        print(f"end-to-end: {args.events / total:,.0f} msg/s")
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.terminate()
                await proc.wait()
        broker.close()


if __name__ == "__main__":
    asyncio.run(main())
