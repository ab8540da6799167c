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
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiomqtt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import start_broker, stop_processes
from smscs import KINDS, Smsc, cpu_seconds, start_smsc

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


def daemon_config(
    smsc_port: int,
    broker_port: int,
    window: int,
    store: str,
    *,
    client_id: str = "bench-gw",
    mqtt: str = "",
    more: str = "",
) -> str:
    """The daemon's configuration for a run: no TPS cap, quiet hours off (a run at any hour
    measures the same thing), SCT and STP. `store` is the store section as a YAML flow
    mapping (`{path: FILE}` or `{url: postgresql://...}`), `mqtt` more keys of the mqtt
    section (", key: value"), `more` whole sections."""
    return (
        f"smpp: {{port: {smsc_port}, password: secret, window: {window}, tps: 0}}\n"
        f"mqtt: {{port: {broker_port}, client_id: {client_id}{mqtt}}}\n"
        f"store: {store}\n"
        "schedule: {quiet_hours: 'off'}\n" + more + AGENCIES
    )


async def start_daemon(config: Path, log: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    """`motcua-sms run -c config` in a process of its own, as under systemd, its log (JSON
    lines, stderr) into `log`."""
    with log.open("wb") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway.cli", "run", "-c", str(config),
            stderr=out, env=env,
        )  # fmt: skip


async def daemon_ready(log: Path, daemon: asyncio.subprocess.Process) -> None:
    """Until the daemon has subscribed (`mqtt_connected` follows the SUBACK) and bound:
    a job published before its first subscription would be lost to it."""
    for _ in range(600):
        text = await asyncio.to_thread(log.read_text, errors="replace")
        if '"mqtt_connected"' in text and '"smpp_bound"' in text:
            return
        if daemon.returncode is not None:
            raise RuntimeError(f"the daemon exited with {daemon.returncode}; log: {log}")
        await asyncio.sleep(0.05)
    raise RuntimeError(f"the daemon did not subscribe and bind in 30 s; log: {log}")


class Deliveries:
    """The distinct ids reported `delivered` on motcua/+/status, counted as they arrive;
    subscribed on entry, before any job is published, so that none is missed."""

    def __init__(self, broker_port: int, expected: int) -> None:
        self.broker_port = broker_port
        self.expected = expected
        self.ids: set[str] = set()
        self.done = asyncio.Event()
        self._client: aiomqtt.Client | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Deliveries:
        self._client = aiomqtt.Client("127.0.0.1", self.broker_port)
        await self._client.__aenter__()
        await self._client.subscribe("motcua/+/status", qos=1)
        self._task = asyncio.create_task(self._collect(self._client))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._client is not None:
            await self._client.__aexit__(None, None, None)

    async def _collect(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            status = json.loads(message.payload)
            if status["state"] == "delivered":
                self.ids.add(status["id"])
                if len(self.ids) >= self.expected:
                    self.done.set()

    async def wait_all(self, start: float, where: str) -> float:
        """Until every expected id is delivered (saying how far it got every 20 s, with
        `where` to look); the seconds since `start` (perf_counter) it took."""
        while not self.done.is_set():
            try:
                await asyncio.wait_for(self.done.wait(), 20)
            except TimeoutError:
                print(
                    f"... {len(self.ids)} delivered after "
                    f"{time.perf_counter() - start:.0f} s (log: {where})",
                    file=sys.stderr,
                )
        return time.perf_counter() - start


async def publish_all(broker_port: int, messages: list[tuple[str, bytes]]) -> None:
    """Publish every (topic, payload) at QoS 1, one after the other, each PUBACK awaited."""
    async with aiomqtt.Client("127.0.0.1", broker_port) as pub:
        for topic, payload in messages:
            await pub.publish(topic, payload, qos=1)


async def profile_daemon(pid: int, out: Path) -> asyncio.subprocess.Process:
    """py-spy sampling the daemon (its native frames too: SQLite, the event loop) into
    `out` as collapsed stacks, until it is interrupted (SIGINT writes the file)."""
    spy = shutil.which("py-spy")
    if spy is None:
        raise SystemExit("--profile needs py-spy (pip install py-spy==0.4.3)")
    return await asyncio.create_subprocess_exec(
        spy, "record", "--pid", str(pid), "--native", "--threads", "--rate", "100",
        "--format", "raw", "--output", str(out),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


async def one_run(
    events: int,
    window: int,
    text: str,
    *,
    smsc_kind: str = "bundled",
    store: Path | None = None,
    profile: Path | None = None,
) -> dict[str, Any]:
    """One fresh run: broker, SMSC, daemon; `store` is a store file to start from (a copy
    is used), `profile` where py-spy writes the daemon's collapsed stacks."""
    broker = start_broker()
    work = Path(tempfile.mkdtemp(prefix="motcua-bench-"))
    env = {**os.environ, "MOTCUA_SMS_LOG_FORMAT": "json"}
    procs: list[asyncio.subprocess.Process] = []
    make = TEXTS[text]
    smsc: Smsc | None = None
    spy: asyncio.subprocess.Process | None = None
    try:
        smsc = await start_smsc(smsc_kind, env=env)
        db = work / "gateway.db"
        if store is not None:
            shutil.copyfile(store, db)
        config = work / "gateway.yaml"
        config.write_text(
            daemon_config(smsc.port, broker.port, window, f"{{path: {db}}}"), encoding="utf-8"
        )
        procs.append(await start_daemon(config, work / "daemon.log", env))
        daemon = procs[0]
        messages = [make(n) for n in range(events)]

        async with Deliveries(broker.port, events) as delivered:
            await daemon_ready(work / "daemon.log", daemon)
            if profile is not None:
                spy = await profile_daemon(daemon.pid, profile)
            cpu_before = (cpu_seconds(daemon.pid), smsc.cpu())
            start = time.perf_counter()
            await publish_all(broker.port, messages)
            published = time.perf_counter() - start
            total = await delivered.wait_all(start, f"{work}/daemon.log")
            daemon_cpu = cpu_seconds(daemon.pid) - cpu_before[0]
            sim_cpu = smsc.cpu() - cpu_before[1]
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            await asyncio.wait_for(spy.wait(), 60)
            spy = None
        return {
            "rate": events / total,
            "seconds": total,
            "published_in": published,
            "submits": await smsc.submits(),
            "daemon_cpu": daemon_cpu,
            "sim_cpu": sim_cpu,
        }
    finally:
        if spy is not None and spy.returncode is None:
            spy.kill()
            await spy.wait()
        await stop_processes(procs)
        if smsc is not None:
            await smsc.stop()
        broker.close()
        shutil.rmtree(work, ignore_errors=True)


async def measure(
    *,
    events: int = 20_000,
    window: int = 10,
    text: str = "gsm7",
    repeat: int = 3,
    smsc: str = "bundled",
    store: Path | None = None,
) -> dict[str, Any]:
    runs = [await one_run(events, window, text, smsc_kind=smsc, store=store) for _ in range(repeat)]
    return summary(runs, events=events, window=window, text=text, smsc=smsc)


def summary(runs: list[dict[str, Any]], **about: Any) -> dict[str, Any]:
    """Medians of `runs`, with each run's figure for the spread."""
    events = about["events"]
    return {
        **about,
        "rate": statistics.median(r["rate"] for r in runs),
        "rates": [round(r["rate"]) for r in runs],
        "parts_per_message": runs[-1]["submits"] / events,
        # Per message, milliseconds: the daemon's CPU, and the simulator's (it must not be
        # what limits the run: its share of one core is printed beside it).
        "daemon_cpu_ms": statistics.median(1000 * r["daemon_cpu"] / events for r in runs),
        "daemon_cpu_mss": [round(1000 * r["daemon_cpu"] / events, 3) for r in runs],
        "sim_cpu_share": statistics.median(r["sim_cpu"] / r["seconds"] for r in runs),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--window", type=int, default=10)
    parser.add_argument("--text", choices=sorted(TEXTS), default="gsm7")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--smsc", choices=KINDS, default="bundled")
    parser.add_argument("--store", type=Path, help="start from (a copy of) this store file")
    parser.add_argument(
        "--profile", type=Path, help="one run, the daemon sampled by py-spy into this file"
    )
    args = parser.parse_args()
    if args.profile is not None:
        run = await one_run(
            args.events, args.window, args.text, smsc_kind=args.smsc, store=args.store,
            profile=args.profile,
        )  # fmt: skip
        got = summary([run], events=args.events, window=args.window, text=args.text,
                      smsc=args.smsc)  # fmt: skip
        args.repeat = 1
    else:
        got = await measure(
            events=args.events, window=args.window, text=args.text, repeat=args.repeat,
            smsc=args.smsc, store=args.store,
        )  # fmt: skip
    print(f"$ python {' '.join(shlex.quote(a) for a in sys.argv)}")
    print(
        f"{args.events} messages ({args.text}, {got['parts_per_message']:.2f} submit_sm each), "
        f"window {args.window}, {args.smsc} SMSC, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.2f}: "
        f"{got['rate']:,.0f} msg/s end-to-end (median of {args.repeat}: {got['rates']}); "
        f"daemon CPU {got['daemon_cpu_ms']:.3f} ms per message {got['daemon_cpu_mss']}; "
        f"simulator {got['sim_cpu_share']:.0%} of one core"
    )


if __name__ == "__main__":
    asyncio.run(main())
