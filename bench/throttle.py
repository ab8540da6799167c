"""Throttle accuracy: configured TPS against what the SMSC counts, and ESME_RTHROTTLED provoked.

A carrier sells a TPS and answers ESME_RTHROTTLED above it, counting in a sliding second;
every throttled submit is a pause and a resend. So the daemon must reach the rate it is
configured for (within 1 %) without ever crossing it: goal 0 ESME_RTHROTTLED. For
comparison, Kannel configured at `throughput = 100` sends 103 in some seconds.

For each configured rate the daemon (its own process, `smpp: {tps: X, window: 10}`, real
mosquitto) gets 12 × X SMS jobs at once, more than it may send in 10 seconds, so its
queue never runs dry, and two runs are made:

1. the simulator has no cap and counts: submits per calendar second (the first and last,
   partial, seconds left out of the mean), the largest number in any sliding second
   (what a carrier counts), and the overall rate from first to last submit;
2. the simulator answers ESME_RTHROTTLED above X in any sliding second, as a carrier
   does: how many of those the daemon provokes (each is resent after a pause).

The simulator runs in this process (its per-second counts and submit times are not on
its control port); the daemon, mosquitto and the simulator are separate processes, so
the daemon's clock and the SMSC's are not the same loop.

    python bench/throttle.py [--rates 50 200] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shlex
import shutil
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from itertools import pairwise
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import publish_jobs, start_broker

from gateway.ops.logs import configure_logging
from gateway.smpp.pdu import Status, status_name
from gateway.smpp.sim import SimConfig, SmscSimulator
from tests.support.broker import free_port

THROTTLED = status_name(Status.ESME_RTHROTTLED)
OK = status_name(Status.ESME_ROK)

# Third digits of 09x mobile prefixes that are mobile whatever the last 7 digits are.
MOBILE = "0134678"


def sms_job(n: int) -> bytes:
    """One GSM-7 part (SCT strips diacritics): one submit_sm per job."""
    to = f"09{MOBILE[n % len(MOBILE)]}{n // len(MOBILE):07d}"
    text = f"Ho so {n:010d} da co ket qua. Moi ong/ba den Bo phan Mot cua nhan ket qua."
    return json.dumps({"id": f"job-{n}", "to": to, "text": text}).encode()


def healthy(port: int) -> bool:
    """True once the daemon's /healthz answers 200: bound to the SMSC, broker connected."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


async def one_run(tps: int, seconds: float, cap: float) -> dict[str, Any]:
    """Daemon at `tps`, simulator capped at `cap` (0: none); the simulator's counts."""
    jobs = round((seconds + 2) * tps)
    broker = start_broker()
    work = Path(tempfile.mkdtemp(prefix="motcua-throttle-bench-"))
    log = work / "daemon.log"
    admin_port = free_port()
    daemon = None
    try:
        async with SmscSimulator(SimConfig(receipt_delay=0.0, tps=cap)) as smsc:
            config = work / "gateway.yaml"
            config.write_text(
                f"smpp: {{port: {smsc.port}, password: secret, tps: {tps}, window: 10}}\n"
                f"mqtt: {{port: {broker.port}, client_id: bench-throttle}}\n"
                f"store: {{path: {work / 'gateway.db'}}}\n"
                f"admin: {{port: {admin_port}}}\n"
                "schedule: {quiet_hours: 'off'}\n"
                "agencies:\n  SCT: {name: Sở Công Thương}\n",
                encoding="utf-8",
            )
            env = {**os.environ, "MOTCUA_SMS_LOG_FORMAT": "json"}
            with log.open("wb") as stderr:
                daemon = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "gateway.cli", "run", "-c", str(config),
                    stderr=stderr, env=env,
                )  # fmt: skip
            deadline = time.monotonic() + 30
            while not await asyncio.to_thread(healthy, admin_port):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the daemon did not come up (log: {log})")
                await asyncio.sleep(0.2)
            await asyncio.sleep(0.5)  # subscribed

            await publish_jobs(broker.port, sms_job, jobs, identifier="bench-throttle-pub")
            # Every job accepted once; throttled submits come again after a pause.
            deadline = time.monotonic() + 3 * seconds + 60
            while smsc.stats.submits_by_status[OK] < jobs:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{smsc.stats.submits_by_status[OK]} of {jobs} accepted (log: {log})"
                    )
                await asyncio.sleep(0.2)
            await asyncio.sleep(0.5)  # anything sent twice would show now
            stats = smsc.stats
            times = sorted(r.at for r in smsc.records)
            per_second = Counter(stats.per_second)
    finally:
        if daemon is not None and daemon.returncode is None:
            daemon.terminate()
            await daemon.wait()
        broker.close()
    shutil.rmtree(work, ignore_errors=True)

    seconds_seen = sorted(per_second)
    full = [per_second[s] for s in seconds_seen[1:-1]] or [per_second[s] for s in seconds_seen]
    gaps = [b - a for a, b in pairwise(times)]
    return {
        "configured": tps,
        "cap": cap,
        "jobs": jobs,
        "submits": stats.submits,
        "accepted": stats.submits_by_status[OK],
        "throttled": stats.submits_by_status[THROTTLED],
        "by_status": dict(stats.submits_by_status),
        "full_seconds": len(full),
        "per_second": [per_second[s] for s in seconds_seen],
        "achieved": statistics.fmean(full),
        "max_second": max(full),
        "min_second": min(full),
        "overall": (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0,
        "sliding_max": stats.max_rate,  # the simulator keeps the sliding second
        "gap_p50_ms": statistics.median(gaps) * 1000 if gaps else 0.0,
        "gap_max_ms": max(gaps) * 1000 if gaps else 0.0,
    }


async def measure(*, rates: tuple[int, ...] = (50, 200), seconds: float = 10) -> dict[str, Any]:
    """For each rate: the uncapped run's rates, and the capped run's ESME_RTHROTTLED."""
    results = []
    for tps in rates:
        free = await one_run(tps, seconds, cap=0.0)
        capped = await one_run(tps, seconds, cap=float(tps))
        results.append(
            {
                **free,
                "ratio": free["achieved"] / tps,
                "throttled": capped["throttled"],
                "capped": capped,
            }
        )
    return {"seconds": seconds, "results": results}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=int, nargs="+", default=[50, 200], metavar="TPS")
    parser.add_argument("--seconds", type=float, default=10, help="seconds of sending per run")
    args = parser.parse_args()
    print(f"$ python {' '.join(shlex.quote(a) for a in sys.argv)}", flush=True)
    configure_logging(logging.WARNING)  # the simulator's start-up lines would clutter this
    got = await measure(rates=tuple(args.rates), seconds=args.seconds)
    print(f"window 10, {os.cpu_count()} cores; submit_sm counted by the simulator")
    for r in got["results"]:
        c = r["capped"]
        print(
            f"configured {r['configured']} TPS, no cap at the SMSC: {r['achieved']:.2f}/s "
            f"mean of {r['full_seconds']} full seconds = {r['ratio']:.4f} of configured "
            f"(seconds {r['min_second']}..{r['max_second']}; first to last submit "
            f"{r['overall']:.2f}/s; most in a sliding second {r['sliding_max']}; "
            f"gap p50 {r['gap_p50_ms']:.2f} ms, max {r['gap_max_ms']:.1f} ms)"
        )
        print(f"    per second (first and last partial): {r['per_second']}")
        print(
            f"    SMSC capped at {r['configured']}: ESME_RTHROTTLED {c['throttled']} "
            f"({c['submits']} submits for {c['jobs']} jobs; {c['achieved']:.2f}/s mean, "
            f"most in a sliding second {c['sliding_max']})"
        )


if __name__ == "__main__":
    asyncio.run(main())
