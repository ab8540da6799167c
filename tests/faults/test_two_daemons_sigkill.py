"""Two daemons on one PostgreSQL store and one broker; one of them killed (issue 19).

The daemons are real subprocesses (tests/support/pair.py): each its own name, client id,
admin port and SMPP session on the one simulator, both the same `store.url` and
`mqtt.shared_group`. The killed one is not restarted: what it held (its jobs at the
broker, its claims in the store, its leases) must be taken by the other.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

from gateway.smpp.sim import SimConfig, SmscSimulator
from tests.support.burst import check_delivered
from tests.support.daemon import dossier_event, publish
from tests.support.pair import LEASE, Pair
from tests.support.wait import eventually

COUNT = 5000
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# A working day (Wednesday), 45 s before the 17:30 apology run (for two daemons to start and
# take the dossiers in on a loaded machine: measured 7-16 s); the daemons' clocks start
# there whatever the real date and hour. Its due dates: Thursday only.
EVENING = datetime(2027, 3, 10, 17, 29, 15, tzinfo=TZ)
APOLOGY_AT = datetime(2027, 3, 10, 17, 30, tzinfo=TZ)
TOMORROW = "2027-03-11"
DOSSIERS = 20
# How long a second run, were one to start, takes to show after the survivor took the
# apology lease: its first act is the catch-up, one read of the store.
QUIET = 2.0


def sms_states(events: list[dict], count: int) -> dict[str, set[str]]:
    """The states published for each job, by ref."""
    states: dict[str, set[str]] = {f"job-{n}": set() for n in range(count)}
    for event in events:
        if event["id"] in states:
            states[event["id"]].add(event["state"])
    return states


async def test_one_of_two_daemons_killed_mid_burst_the_other_delivers_every_job(
    fresh_broker, postgres_url, tmp_path
):
    async with (
        SmscSimulator(SimConfig(receipt_delay=0.05, response_delay=0.002)) as smsc,
        Pair(fresh_broker.port, smsc, tmp_path, postgres_url) as pair,
    ):
        killed, survivor = pair["a"], pair["b"]
        await pair.publish_jobs(COUNT // 2)
        await eventually(lambda: smsc.stats.submits >= COUNT // 3, 120, poll=0.005)
        await pair.kill(killed)
        killed_at = time.monotonic()
        sent_before_kill = pair.sent()
        # The rest while it lies dead: the broker goes on giving its session a share of
        # them until the other daemon takes that session over.
        await pair.publish_jobs(COUNT - COUNT // 2, start=COUNT // 2)

        delivered = await pair.watch.wait_for(
            lambda ev: len({e["id"] for e in ev if e["state"] == "delivered"}) >= COUNT,
            timeout=180,
        )
        took = time.monotonic() - killed_at
        await pair.settled_store()
        stored = dict(await pair.rows("SELECT state, COUNT(*) FROM messages GROUP BY state"))
        taken_over = [e for e in survivor.logged("mqtt_session_taken_over")
                      if e["gone"] == killed.client_id]  # fmt: skip
        _, health = await survivor.health()

    assert sent_before_kill[killed.name] > 0 and sent_before_kill[survivor.name] > 0
    assert sum(sent_before_kill.values()) < COUNT, "the kill must land mid-burst"
    assert set(pair.sent()) == {killed.name, survivor.name}
    duplicates = check_delivered(
        smsc, COUNT, {e["id"] for e in delivered if e["state"] == "delivered"}
    )
    assert len(taken_over) == 1 and taken_over[0]["messages"] > 0, "its session taken over"
    print(f"sent before the kill {dict(sent_before_kill)}; all delivered {took:.1f} s after it; "
          f"{duplicates} duplicates; {taken_over[0]['messages']} jobs taken from its "
          "session")  # fmt: skip
    every = {"queued", "submitted", "delivered"}
    missing = {ref: s for ref, s in sms_states(pair.watch.events, COUNT).items() if every - s}
    assert not missing, f"{len(missing)} jobs miss a state, e.g. {list(missing.items())[:3]}"
    assert stored == {"delivered": COUNT}
    listed = {d["name"]: d["alive"] for d in health["daemons"]}
    assert listed == {killed.name: False, survivor.name: True}, "/healthz shows both"


async def test_the_receipts_of_one_daemons_messages_settle_them_on_the_others_session(
    fresh_broker, postgres_url, tmp_path
):
    count = 300
    config = SimConfig(receipt_delay=0.05, receipts_elsewhere=True)
    async with (
        SmscSimulator(config) as smsc,
        Pair(fresh_broker.port, smsc, tmp_path, postgres_url) as pair,
    ):
        await pair.publish_jobs(count)
        delivered = await pair.watch.wait_for(
            lambda ev: len({e["id"] for e in ev if e["state"] == "delivered"}) >= count,
            timeout=60,
        )
        await pair.settled_store()

    assert set(pair.sent()) == {"a", "b"}, "both daemons send"
    assert smsc.stats.receipts_elsewhere == smsc.stats.receipts_sent >= count
    check_delivered(smsc, count, {e["id"] for e in delivered if e["state"] == "delivered"},
                    interruptions=0)  # fmt: skip


def dossiers() -> list[tuple[str, dict]]:
    """Open dossiers due tomorrow, each citizen a number of their own."""
    return [
        (
            "motcua/SCT/dossier",
            dossier_event(
                n,
                status="processing",
                due_date=TOMORROW,
                phone=f"0913{n:06d}",
                occurred_at="2027-03-10T09:00:00+07:00",
            ),
        )
        for n in range(DOSSIERS)
    ]


async def test_the_apology_runs_once_that_evening_when_the_daemon_that_ran_it_is_killed(
    fresh_broker, postgres_url, tmp_path
):
    async with (
        SmscSimulator(SimConfig(receipt_delay=0.05)) as smsc,
        Pair(fresh_broker.port, smsc, tmp_path, postgres_url, clock_at=EVENING) as pair,
    ):

        async def dossiers_in() -> bool:
            return await pair.count("SELECT COUNT(*) FROM dossiers") == DOSSIERS

        async def apology_lease_with(name: str) -> bool:
            found = await pair.rows("SELECT holder FROM leases WHERE name = 'apology'")
            return found == [(name,)]

        def apologies_delivered(events: list[dict]) -> bool:
            done = {e["id"] for e in events if e["kind"] == "apology" and e["state"] == "delivered"}
            return len(done) == DOSSIERS

        await publish(fresh_broker.port, dossiers())
        await eventually(dossiers_in, 30, poll=0.2)
        ahead = APOLOGY_AT.timestamp() - pair.now()
        await pair.watch.wait_for(apologies_delivered, timeout=60)
        alive_at_run = [m.name for m in pair.members.values() if m.alive]
        ran = [m for m in pair.members.values() if m.log_events()["apology_run"]]
        assert len(ran) == 1, f"the run was logged by {[m.name for m in ran]}"
        runner = ran[0]
        survivor = next(m for m in pair.members.values() if m is not runner)

        await pair.kill(runner)
        await eventually(lambda: apology_lease_with(survivor.name), 4 * LEASE, poll=0.2)
        await asyncio.sleep(QUIET)  # for a second run, were one to start, to show
        runs = await pair.rows("SELECT run_day, queued FROM apology_runs")
        apologies = await pair.count("SELECT COUNT(*) FROM messages WHERE kind = 'apology'")

    assert ahead > 0, "the dossiers must be in before the apology time"
    print(f"dossiers in {ahead:.1f} s before the apology time")
    assert alive_at_run == ["a", "b"], "both daemons alive at the apology time"
    assert runs == [("2027-03-10", DOSSIERS)]
    assert survivor.log_events()["apology_run"] == 0, "a second run"
    assert apologies == DOSSIERS
    # Each part of each citizen's apology once (an apology is sent in parts, each a record).
    parts = Counter((r.destination, r.text) for r in smsc.records if r.status == 0)
    assert len({number for number, _ in parts}) == DOSSIERS
    assert set(parts.values()) == {1}, "one apology each"
