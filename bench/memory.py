"""Memory: RSS of the daemon idle, and with N messages queued while the SMSC is down.

An SMSC outage of an afternoon is when a one-stop office's whole day piles up in the
gateway; the daemon must keep it on disk, not in memory, so the goal is ≤ 80 MB RSS
with 100,000 messages queued (and the same after they drain).

Real mosquitto and the daemon in its own process, as under systemd; the daemon's SMPP
port is one where nothing listens (the SMSC is down), its admin port is on, and its
`/healthz` says how many messages wait (`queued`). The steps:

1. start-up, then a few seconds idle: VmRSS;
2. N SMS jobs published at QoS 1 (100 awaiting PUBACK at a time; as fast as the broker
   takes them, or --rate a second), until `/healthz`
   counts all N queued and the status outbox (one `queued` status each, published to the
   broker) is empty: VmRSS, and VmHWM (the peak so far) from /proc/PID/status;
3. unless --no-drain: the bundled simulator starts on that port (receipts at once) and
   everything is sent and delivered: VmRSS and VmHWM again.

Figures are MiB (2^20 bytes), as /proc reports them in KiB. The daemon runs with `tps: 0`
so that the drain takes a minute, not the half hour 100,000 take at the default 50/s, and
`reconnect_max: 2` so that it binds within seconds of the SMSC's return.

    python bench/memory.py [--messages 100000] [--idle 5] [--rate 0] [--no-drain]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import shutil
import sqlite3
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import publish_jobs, start_broker, start_simulator, stop_processes

from tests.support.broker import free_port

TEXT = (
    "Hồ sơ {n:010d} đã có kết quả. Mời ông/bà đến Bộ phận Một cửa Sở Công Thương "
    "nhận kết quả, mang theo giấy hẹn."
)

# Numbers of 09x prefixes that are mobile whatever their last 7 digits are.
MOBILE = "0134678"


def sms_job(n: int) -> bytes:
    """The n-th job: its own id and number; SCT strips diacritics, so one GSM-7 part."""
    to = f"09{MOBILE[n % len(MOBILE)]}{n // len(MOBILE):07d}"
    return json.dumps({"id": f"job-{n}", "to": to, "text": TEXT.format(n=n)}).encode()


def memory_mib(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of `pid`, MiB."""
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


def healthz(port: int) -> dict[str, Any] | None:
    """The daemon's /healthz JSON (503 while the SMSC is down is still an answer)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read())
    except OSError:
        return None


def pending_statuses(db: Path) -> int:
    """Rows in the status outbox, read-only (the daemon keeps writing in WAL mode)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute("SELECT COUNT(*) FROM status_out").fetchone()[0]
    finally:
        conn.close()


async def wait_for(
    what: str, check: Any, timeout: float, *, every: float = 0.5, log: Path | None = None
) -> Any:
    """Poll the blocking `check()` (in a thread) until it returns something true."""
    deadline = time.monotonic() + timeout
    while True:
        got = await asyncio.to_thread(check)
        if got:
            return got
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}" + (f" (log: {log})" if log else ""))
        await asyncio.sleep(every)


async def measure(
    *, messages: int = 100_000, idle: float = 5.0, drain: bool = True, rate: float = 0.0
) -> dict[str, Any]:
    """RSS idle, with `messages` queued (SMSC down), and after they drain."""
    broker = start_broker()
    work = Path(tempfile.mkdtemp(prefix="motcua-memory-bench-"))
    db = work / "gateway.db"
    log = work / "daemon.log"
    smsc_port, control_port, admin_port = free_port(), free_port(), free_port()
    env = {**os.environ, "MOTCUA_SMS_LOG_FORMAT": "json"}
    procs: list[asyncio.subprocess.Process] = []
    got: dict[str, Any] = {"messages": messages}
    try:
        config = work / "gateway.yaml"
        config.write_text(
            f"smpp: {{port: {smsc_port}, password: secret, window: 10, tps: 0, "
            "reconnect_max: 2}\n"
            f"mqtt: {{port: {broker.port}, client_id: bench-memory}}\n"
            f"store: {{path: {db}}}\n"
            f"admin: {{port: {admin_port}}}\n"
            "schedule: {quiet_hours: 'off'}\n"
            "agencies:\n  SCT: {name: Sở Công Thương}\n",
            encoding="utf-8",
        )
        with log.open("wb") as stderr:
            daemon = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "gateway.cli", "run", "-c", str(config),
                stderr=stderr, env=env,
            )  # fmt: skip
        procs.append(daemon)
        await wait_for(
            "the daemon's broker connection",
            lambda: (h := healthz(admin_port)) and h["broker"] == "connected",
            30,
            log=log,
        )
        await asyncio.sleep(idle)
        got["idle_mb"] = memory_mib(daemon.pid)["VmRSS"]

        got["published_in"] = await publish_jobs(
            broker.port, sms_job, messages, identifier="bench-memory-pub", rate=rate
        )
        started = time.perf_counter()
        health = await wait_for(
            f"{messages} queued",
            lambda: (h := healthz(admin_port)) and h["queued"] >= messages and h,
            600,
            log=log,
        )
        await wait_for("an empty status outbox", lambda: pending_statuses(db) == 0, 600, log=log)
        got["settled_in"] = time.perf_counter() - started
        mem = memory_mib(daemon.pid)
        got["queued"] = health["queued"]
        got["smsc"] = health["smsc"]
        got["queued_mb"] = mem["VmRSS"]
        got["peak_mb"] = mem["VmHWM"]

        if drain:
            procs.append(await start_simulator(smsc_port, control_port, env=env))
            started = time.perf_counter()
            await wait_for(
                "the queue to drain",
                lambda: (h := healthz(admin_port)) and h["queued"] == 0,
                1800,
                every=1.0,
                log=log,
            )
            await wait_for(
                "an empty status outbox", lambda: pending_statuses(db) == 0, 600, log=log
            )
            got["drained_in"] = time.perf_counter() - started
            mem = memory_mib(daemon.pid)
            got["drained_mb"] = mem["VmRSS"]
            got["drained_peak_mb"] = mem["VmHWM"]
    finally:
        await stop_processes(procs)
        broker.close()
    shutil.rmtree(work, ignore_errors=True)
    return got


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--idle", type=float, default=5.0, help="seconds idle before measuring")
    parser.add_argument("--no-drain", action="store_true", help="skip the SMSC's return")
    parser.add_argument(
        "--rate", type=float, default=0.0, help="jobs published a second (0: all at once)"
    )
    args = parser.parse_args()
    print(f"$ python {' '.join(shlex.quote(a) for a in sys.argv)}", flush=True)
    got = await measure(
        messages=args.messages, idle=args.idle, drain=not args.no_drain, rate=args.rate
    )
    print(f"daemon RSS, MiB; {os.cpu_count()} cores")
    print(f"idle after start-up ({args.idle:g} s), SMSC down: {got['idle_mb']:.1f}")
    print(
        f"{got['queued']:,} queued (SMSC {got['smsc']}; published "
        f"{'all at once' if not args.rate else f'at {args.rate:g}/s'} in "
        f"{got['published_in']:.1f} s, all stored and statuses out {got['settled_in']:.1f} s "
        f"later): {got['queued_mb']:.1f}, peak so far {got['peak_mb']:.1f}"
    )
    if "drained_mb" in got:
        print(
            f"SMSC back, all sent and delivered in {got['drained_in']:.0f} s: "
            f"{got['drained_mb']:.1f}, peak {got['drained_peak_mb']:.1f}"
        )


if __name__ == "__main__":
    asyncio.run(main())
