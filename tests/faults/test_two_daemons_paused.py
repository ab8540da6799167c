"""Two daemons on one PostgreSQL store; one stopped (SIGSTOP: a VM paused, a host swapping)
for longer than the lease mid-burst, then resumed (SIGCONT). The other judges it dead and
sends what it had claimed; resumed, the stopped one sends none of those: it knows on its
own clock that its claims lapsed, drops what it fetched ahead and fetches again after its
next heartbeat (which logs `daemon_was_judged_dead`). Duplicates: at most the window it
had out when it stopped (sent, unanswered: the other cannot know), as for a kill.
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter

from gateway.smpp.sim import SimConfig, SmscSimulator
from tests.support.burst import WINDOW
from tests.support.pair import LEASE, Pair
from tests.support.wait import eventually

COUNT = 2000


async def test_a_daemon_paused_past_its_lease_and_resumed_sends_nothing_the_other_took(
    fresh_broker, postgres_url, tmp_path
):
    async with (
        SmscSimulator(SimConfig(receipt_delay=0.05, response_delay=0.002)) as smsc,
        Pair(fresh_broker.port, smsc, tmp_path, postgres_url) as pair,
    ):
        paused = pair["a"]
        assert paused.process is not None
        await pair.publish_jobs(COUNT)
        await eventually(lambda: smsc.stats.submits >= COUNT // 4, 120, poll=0.005)
        paused.process.send_signal(signal.SIGSTOP)
        try:
            await asyncio.sleep(LEASE + 5)  # judged dead; b takes a's claims
        finally:
            paused.process.send_signal(signal.SIGCONT)
        await pair.watch.wait_for(
            lambda ev: len({e["id"] for e in ev if e["state"] == "delivered"}) >= COUNT,
            timeout=180,
        )
        # What a sent after it resumed has had the time to reach the simulator.
        await asyncio.sleep(3)
        per_number = Counter(r.destination for r in smsc.records if r.status == 0)
        by_daemon = pair.sent()
        judged_dead = paused.logged("daemon_was_judged_dead")
        senders: dict[str, list[str]] = {}
        for r in smsc.records:
            if r.status == 0:
                senders.setdefault(r.destination, []).append(r.system_type)
        twice = Counter(tuple(v) for v in senders.values() if len(v) > 1)
        print(f"duplicated, by who sent them in order: {dict(twice)}")
        print(f"a's log: {paused.log_events().most_common(15)}")

    duplicates = sum(n - 1 for n in per_number.values())
    print(f"sent {dict(by_daemon)}; {duplicates} duplicates; a judged dead: {bool(judged_dead)}")
    assert len(per_number) == COUNT
    assert duplicates <= WINDOW, f"{duplicates} duplicates > one window ({WINDOW})"
    assert judged_dead  # its heartbeat after the gap said so
