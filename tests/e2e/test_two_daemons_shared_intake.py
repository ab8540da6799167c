"""Two daemons, as systemd runs them, sharing intake through `mqtt.shared_group` on one
mosquitto; one SIGKILLed mid-burst. Each has a SQLite store of its own here, so what
each committed can be told apart (on one PostgreSQL store the repeats a handover can
cause are absorbed by its idempotency)."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

from gateway.smpp.sim import SimConfig, SmscSimulator
from tests.support.daemon import (
    log_events,
    publish,
    start_daemon,
    stop_daemon,
    write_daemon_config,
)
from tests.support.wait import eventually

COUNT = 1000
SHARED = "  shared_group: intake\n  handover_delay: 1\n  keepalive: 5\n"


def committed(db: Path) -> set[str]:
    """The job ids the daemon's store holds, read beside the running daemon."""
    if not db.exists():
        return set()
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return {ref for (ref,) in conn.execute("SELECT ref FROM messages")}


async def test_two_daemons_take_a_burst_between_them_and_one_takes_what_the_killed_one_held(
    fresh_broker, tmp_path
):
    dbs = {}
    async with SmscSimulator(SimConfig(receipt_delay=0.01)) as smsc:
        daemons = {}
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            dbs[name] = tmp_path / name / "gateway.db"
            config = tmp_path / name / "gateway.yaml"
            write_daemon_config(
                config, broker_port=fresh_broker.port, smsc_port=smsc.port, db=dbs[name],
                mqtt_extra=SHARED,
            )  # fmt: skip
            daemons[name] = await start_daemon(config)
        try:
            await eventually(lambda: smsc.sessions >= 2, 20, poll=0.05)
            jobs = [
                ("motcua/SCT/sms", {"id": f"job-{n}", "to": "0905123456", "text": f"Tin {n}"})
                for n in range(COUNT)
            ]
            await publish(fresh_broker.port, jobs)
            await eventually(lambda: len(committed(dbs["a"])) >= COUNT // 10, 20, poll=0.05)
            daemons["a"].send_signal(signal.SIGKILL)
            await daemons["a"].wait()
            taken_by_a = committed(dbs["a"])
            sent = {f"job-{n}" for n in range(COUNT)}

            # Generous: two daemons and a burst on a machine that may be busy.
            await eventually(lambda: taken_by_a | committed(dbs["b"]) == sent, 90, poll=0.1)
            b_config = tmp_path / "b" / "gateway.yaml"
            # b takes the killed daemon's session over, and ends it, even when a had
            # nothing left in it (whether a still held jobs when killed depends on
            # timing; held jobs are tests/intake/test_shared_intake.py's).
            await eventually(
                lambda: log_events(b_config)["mqtt_session_taken_over"] == 1, 30, poll=0.1
            )
            taken_by_b = committed(dbs["b"])
        finally:
            for daemon in daemons.values():
                if daemon.returncode is None:
                    await stop_daemon(daemon)

    assert taken_by_a and len(taken_by_b - taken_by_a) > 0
    assert taken_by_a | taken_by_b == sent
