"""Transactions per message: how many COMMITs the store runs for N SMS jobs end to end.

The gateway in this process (as the tests run it), the bundled simulator in this process,
a real mosquitto; every statement of the store's connection traced. A figure that does
not depend on how loaded the machine is: each COMMIT is an fsync (`synchronous=FULL`).

    python bench/commits.py [--jobs 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shlex
import sqlite3
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import publish_jobs, start_broker

import gateway.store.database
from gateway.ops.logs import configure_logging
from gateway.smpp.sim import SimConfig, SmscSimulator
from tests.support.daemon import StatusWatch, gateway_config, running_gateway


def job(n: int) -> bytes:
    return json.dumps({"id": f"c-{n}", "to": f"0905{n:06d}", "text": "Thong bao"}).encode()


async def measure(jobs: int = 2000) -> dict[str, float]:
    statements: Counter[str] = Counter()
    opened = gateway.store.database.connect

    def connect(path: str) -> sqlite3.Connection:
        db = opened(path)
        db.set_trace_callback(lambda sql: statements.update([sql.split(None, 1)[0].upper()]))
        return db

    gateway.store.database.connect = connect  # type: ignore[assignment]
    broker = start_broker()
    work = Path(tempfile.mkdtemp(prefix="motcua-commits-"))
    try:
        async with SmscSimulator(SimConfig(receipt_delay=0.0)) as smsc:
            config = gateway_config(
                broker_port=broker.port, smsc_port=smsc.port, db=work / "g.db",
                client_id="bench-commits",
            )  # fmt: skip
            async with StatusWatch(broker.port) as watch, running_gateway(config):
                statements.clear()
                await publish_jobs(broker.port, job, jobs, identifier="bench-commits-pub")
                await watch.wait_for(
                    lambda events: sum(e["state"] == "delivered" for e in events) >= jobs,
                    timeout=300,
                )
                counted = dict(statements)
    finally:
        gateway.store.database.connect = opened  # type: ignore[assignment]
        broker.close()
    return {
        "jobs": jobs,
        "commits": counted.get("COMMIT", 0),
        "commits_per_message": counted.get("COMMIT", 0) / jobs,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    args = parser.parse_args()
    configure_logging(logging.WARNING)
    got = await measure(args.jobs)
    print(f"$ python {' '.join(shlex.quote(a) for a in sys.argv)}")
    print(
        f"{got['jobs']} SMS jobs end to end: {got['commits']} COMMITs, "
        f"{got['commits_per_message']:.2f} per message"
    )


if __name__ == "__main__":
    asyncio.run(main())
