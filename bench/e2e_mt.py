"""End-to-end MT: N dossier events (or SMS jobs) published → N notices delivered and reported.

Real mosquitto, the bundled simulator and the daemon each in a process of their own
(as in production), receipts on, no TPS cap. The clock starts before the first publish
and stops when the N-th `delivered` status has arrived on MQTT. Each run starts all three
afresh (empty store); the figure is the median of `--repeat` runs.

Texts: `gsm7` is the dossier notice of SPEC (diacritics stripped, one GSM-7 part);
`ucs2` is an SMS job with Vietnamese diacritics kept, two UCS-2 parts.

    python bench/e2e_mt.py [--events 20000] [--window 10] [--text gsm7|ucs2] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiomqtt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import start_broker, start_simulator, stop_processes

from tests.support.broker import free_port

# 111 characters with diacritics: two UCS-2 parts (67 + 44).
UCS2_TEXT = (
    "Hồ sơ {n:010d} đã có kết quả. Mời ông/bà đến Bộ phận Một cửa Sở Công Thương "
    "nhận kết quả, mang theo giấy hẹn."
)


def dossier_event(n: int) -> tuple[str, bytes]:
    payload = {
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
    return "motcua/SCT/dossier", json.dumps(payload).encode()


def sms_job(n: int) -> tuple[str, bytes]:
    payload = {"id": f"job-{n}", "to": f"09{n % 100_000_000:08d}", "text": UCS2_TEXT.format(n=n)}
    return "motcua/STP/sms", json.dumps(payload, ensure_ascii=False).encode()


TEXTS = {"gsm7": dossier_event, "ucs2": sms_job}
AGENCIES = "agencies:\n  SCT: {name: Sở Công Thương}\n  STP: {name: Sở Tư pháp, diacritics: keep}\n"


async def wait_port(port: int) -> None:
    for _ in range(400):
        try:
            _r, w = await asyncio.open_connection("127.0.0.1", port)
            w.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sim_stats(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=5) as answer:
        return json.loads(answer.read())


async def one_run(events: int, window: int, text: str) -> dict[str, Any]:
    broker = start_broker()
    work = Path(tempfile.mkdtemp(prefix="motcua-bench-"))
    smsc_port, control_port = free_port(), free_port()
    env = {**os.environ, "MOTCUA_SMS_LOG_FORMAT": "json"}
    procs: list[asyncio.subprocess.Process] = []
    make = TEXTS[text]
    try:
        procs.append(await start_simulator(smsc_port, control_port, env=env))
        await wait_port(smsc_port)
        config = work / "gateway.yaml"
        config.write_text(
            f"smpp: {{port: {smsc_port}, password: secret, window: {window}, tps: 0}}\n"
            f"mqtt: {{port: {broker.port}, client_id: bench-gw}}\n"
            f"store: {{path: {work / 'gateway.db'}}}\n"
            "schedule: {quiet_hours: 'off'}\n" + AGENCIES,
            encoding="utf-8",
        )
        with (work / "daemon.log").open("wb") as log:
            procs.append(
                await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "gateway.cli", "run", "-c", str(config),
                    stderr=log, env=env,
                )
            )  # fmt: skip
        messages = [make(n) for n in range(events)]

        delivered: set[str] = set()
        done = asyncio.Event()
        async with aiomqtt.Client("127.0.0.1", broker.port) as watch:
            await watch.subscribe("motcua/+/status", qos=1)
            await asyncio.sleep(1.5)  # the daemon binds and subscribes

            async def collect() -> None:
                async for message in watch.messages:
                    status = json.loads(message.payload)
                    if status["state"] == "delivered":
                        delivered.add(status["id"])
                        if len(delivered) == events:
                            done.set()

            collector = asyncio.create_task(collect())
            cpu_before = [cpu_seconds(p.pid) for p in procs]
            start = time.perf_counter()
            async with aiomqtt.Client("127.0.0.1", broker.port) as pub:
                for topic, payload in messages:
                    await pub.publish(topic, payload, qos=1)
            published = time.perf_counter() - start
            while not done.is_set():
                try:
                    await asyncio.wait_for(done.wait(), 20)
                except TimeoutError:
                    print(
                        f"... {len(delivered)} delivered after "
                        f"{time.perf_counter() - start:.0f} s (log: {work}/daemon.log)",
                        file=sys.stderr,
                    )
            total = time.perf_counter() - start
            sim_cpu, daemon_cpu = (
                cpu_seconds(p.pid) - before for p, before in zip(procs, cpu_before, strict=True)
            )
            collector.cancel()
        stats = sim_stats(control_port)
        return {
            "rate": events / total,
            "seconds": total,
            "published_in": published,
            "submits": stats["submits"],
            "daemon_cpu": daemon_cpu,
            "sim_cpu": sim_cpu,
        }
    finally:
        await stop_processes(procs)
        broker.close()


async def measure(
    *, events: int = 20_000, window: int = 10, text: str = "gsm7", repeat: int = 3
) -> dict[str, Any]:
    runs = [await one_run(events, window, text) for _ in range(repeat)]
    return {
        "rate": statistics.median(r["rate"] for r in runs),
        "rates": [round(r["rate"]) for r in runs],
        "events": events,
        "window": window,
        "text": text,
        "parts_per_message": runs[-1]["submits"] / events,
        # Per message, milliseconds: the daemon's CPU, and the simulator's (it must not be
        # what limits the run: its share of one core is printed beside it).
        "daemon_cpu_ms": statistics.median(1000 * r["daemon_cpu"] / events for r in runs),
        "sim_cpu_share": statistics.median(r["sim_cpu"] / r["seconds"] for r in runs),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--window", type=int, default=10)
    parser.add_argument("--text", choices=sorted(TEXTS), default="gsm7")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    got = await measure(events=args.events, window=args.window, text=args.text, repeat=args.repeat)
    print(f"$ python {' '.join(shlex.quote(a) for a in sys.argv)}")
    print(
        f"{args.events} messages ({args.text}, {got['parts_per_message']:.2f} submit_sm each), "
        f"window {args.window}, {os.cpu_count()} cores: "
        f"{got['rate']:,.0f} msg/s end-to-end (median of {args.repeat}: {got['rates']}); "
        f"daemon CPU {got['daemon_cpu_ms']:.2f} ms per message; "
        f"simulator {got['sim_cpu_share']:.0%} of one core"
    )


if __name__ == "__main__":
    asyncio.run(main())
