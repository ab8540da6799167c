"""Shared intake's takeover of a gone daemon's session under faults: a daemon killed in
the middle of a takeover and the other restarted."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.held_intake import held_intake
from tests.support.shared_intake import (
    GROUP,
    HANDOVER_BOUND,
    HANDOVER_DELAY,
    daemon,
    held_by,
    publish_jobs,
    refs,
    shared_config,
    unique,
)
from tests.support.stalled_intake import stalled_intake
from tests.support.wait import eventually

pytestmark = pytest.mark.slow


async def test_a_daemon_restarted_after_the_other_died_mid_takeover_takes_over_its_session(
    broker, tmp_path
):
    """A dies holding jobs; B takes A's session over and dies in the middle of it (its
    store stalled, nothing acknowledged); A is started again, B's host stays down. B's
    session still holds B's own jobs and keeps its turn of every new job. B's will,
    published while A is down, waits in A's session, which B's takeover unsubscribed from
    the shared filters only, not from the wills: A takes B's session over, and every
    job, before and after, is committed by A."""
    prefix = unique("midtakeover")
    cfg = shared_config(broker, prefix)
    a_id, b_id = unique("a"), unique("b")
    with stalled_intake(broker.host, broker.port, b_id, prefix, GROUP, HANDOVER_DELAY) as b:
        await b.wait_for("connected", 10)
        with held_intake(broker.host, broker.port, a_id, prefix, GROUP, HANDOVER_DELAY) as a:
            await a.wait_for("connected", 10)
            first = await publish_jobs(broker, prefix, range(40))

            async def shared_out() -> bool:
                return len(held_by(a)) + len(held_by(b)) == len(first)

            await eventually(shared_out, 10, poll=0.05)
            held_a = held_by(a)
            a.kill()

        async def b_took_a_over() -> bool:
            return held_a <= set(held_by(b))

        await eventually(b_took_a_over, HANDOVER_BOUND, poll=0.05)
        await asyncio.sleep(1.0)  # its UNSUBACK is in
        b.kill()
    await asyncio.sleep(HANDOVER_DELAY + 1.0)  # B's will is out by now

    async with daemon(cfg, tmp_path / "a.db", a_id) as store:
        later = await publish_jobs(broker, prefix, range(40, 80))

        async def all_committed() -> bool:
            return await refs(store) == first | later

        try:
            await eventually(all_committed, HANDOVER_BOUND + 10, poll=0.1)
        finally:
            got = await refs(store)
            print("missing:", len((first | later) - got), "of", len(first | later))
