"""Two daemons, as systemd runs them, sharing intake through `mqtt.shared_group` on one
mosquitto and one PostgreSQL store (shared intake is refused on SQLite); one SIGKILLed
mid-burst. Each binds the simulator with its own `system_type` (its name), so what each
sent can be told apart; the repeats a handover can cause are absorbed by the store's
idempotency."""

from __future__ import annotations

import signal
from collections import Counter

from gateway.smpp.sim import SimConfig, SmscSimulator
from gateway.store.store import Store
from tests.support.daemon import (
    log_events,
    publish,
    start_daemon,
    stop_daemon,
    write_daemon_config,
)
from tests.support.store_reads import db_rows
from tests.support.wait import eventually

COUNT = 1000
SHARED = "  shared_group: intake\n  handover_delay: 1\n  keepalive: 5\n"


def sent_by(smsc: SmscSimulator) -> Counter[str]:
    """Submits the SMSC accepted so far, by the daemon (system_type) that sent them."""
    return Counter(r.system_type for r in smsc.records if r.status == 0)


async def test_two_daemons_take_a_burst_between_them_and_one_takes_what_the_killed_one_held(
    fresh_broker, postgres_url, tmp_path
):
    sent = {f"job-{n}" for n in range(COUNT)}
    async with (
        SmscSimulator(SimConfig(receipt_delay=0.01)) as smsc,
        Store.open(postgres_url) as store,
    ):

        async def committed() -> set[str]:
            """The job ids the one store holds, read beside the running daemons."""
            return {ref for (ref,) in await db_rows(store, "SELECT ref FROM messages")}

        daemons = {}
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            config = tmp_path / name / "gateway.yaml"
            write_daemon_config(
                config, broker_port=fresh_broker.port, smsc_port=smsc.port, db=postgres_url,
                mqtt_extra=SHARED, smpp=f"  system_type: {name}\n",
                sections=f"daemon:\n  name: {name}\n",
            )  # fmt: skip
            daemons[name] = await start_daemon(config)
        try:
            await eventually(lambda: smsc.sessions >= 2, 20, poll=0.05)
            # Both subscribed (logged after the SUBACK): a job published before would find
            # no session of theirs at the broker yet.
            configs = [tmp_path / name / "gateway.yaml" for name in ("a", "b")]
            await eventually(
                lambda: all(log_events(c)["mqtt_connected"] >= 1 for c in configs), 30
            )
            jobs = [
                ("motcua/SCT/sms", {"id": f"job-{n}", "to": "0905123456", "text": f"Tin {n}"})
                for n in range(COUNT)
            ]
            await publish(fresh_broker.port, jobs)
            await eventually(lambda: sent_by(smsc)["a"] >= COUNT // 10, 20, poll=0.05)
            daemons["a"].send_signal(signal.SIGKILL)
            await daemons["a"].wait()
            sent_by_a = sent_by(smsc)["a"]

            async def all_committed() -> bool:
                return await committed() == sent

            # Generous: two daemons and a burst on a machine that may be busy.
            await eventually(all_committed, 90, poll=0.1)
            b_config = tmp_path / "b" / "gateway.yaml"
            # b takes the killed daemon's session over, and ends it, even when a had
            # nothing left in it (whether a still held jobs when killed depends on
            # timing; held jobs are tests/intake/test_shared_intake.py's).
            await eventually(
                lambda: log_events(b_config)["mqtt_session_taken_over"] == 1, 30, poll=0.1
            )
            sent_by_b = sent_by(smsc)["b"]
        finally:
            for daemon in daemons.values():
                if daemon.returncode is None:
                    await stop_daemon(daemon)

    assert sent_by_a > 0 and sent_by_b > 0
