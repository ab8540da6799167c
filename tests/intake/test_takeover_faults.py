"""Shared intake's takeover of a gone daemon's session under faults: a daemon killed in
the middle of a takeover and the other restarted; a takeover outlasting a store that
refuses commits."""

from __future__ import annotations

import asyncio
import json

import pytest

from gateway.intake.serving import BROKER_GRACE
from tests.support.broker import Broker
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
from tests.support.shared_member import Member
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
        first, _held = await killed_and_taken_over(broker, prefix, a_id, b)
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


async def killed_and_taken_over(
    broker: Broker, prefix: str, a_id: str, b: Member
) -> tuple[list[str], set[str]]:
    """A (`a_id`) and B share 40 jobs; A is killed holding its share, and B's takeover of
    A's session has handed that share to B. The jobs, and A's share."""
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
    return first, held_a


def committed_by(member: Member) -> set[str]:
    """The job ids a stalled_intake member's store committed (`committed <payload>`)."""
    member._collect()
    return {
        json.loads(line.split(" ", 1)[1])["id"]
        for line in member.lines
        if line.startswith("committed ")
    }


async def test_a_takeover_outlasting_a_slow_store_still_empties_the_gone_daemons_session(
    broker, tmp_path
):
    """A dies while its session holds more than a Receive Maximum of jobs (its share of a
    burst, routed to it while it lay dead); B takes the session over while its store
    refuses commits for 15 s (PostgreSQL restarting). The UNSUBACK comes behind what B
    cannot acknowledge yet and the takeover's first attempt ends without it: B tries
    again, its copy of A's will unacknowledged meanwhile, and once the store is back B
    commits every job A's session held, none left in a session nobody takes again."""
    prefix = unique("slowtakeover")
    a_id, b_id = unique("a"), unique("b")
    stall = 15.0
    with stalled_intake(
        broker.host, broker.port, b_id, prefix, GROUP, HANDOVER_DELAY, stall
    ) as b:
        await b.wait_for("connected", 10)
        with held_intake(broker.host, broker.port, a_id, prefix, GROUP, HANDOVER_DELAY) as a:
            await a.wait_for("connected", 10)
            first = await publish_jobs(broker, prefix, range(40))

            async def shared_out() -> bool:
                return len(held_by(a)) + len(held_by(b)) == len(first)

            await eventually(shared_out, 10, poll=0.05)
            a.kill()
        later = await publish_jobs(broker, prefix, range(40, 2840))

        async def all_committed() -> bool:
            return committed_by(b) == first | later

        try:
            await eventually(all_committed, stall + 60, poll=0.5)
        finally:
            b._collect()
            (tmp_path / "b.log").write_text("\n".join(b.lines), encoding="utf-8")
            print("b's output:", tmp_path / "b.log")
            print("missing:", len((first | later) - committed_by(b)), "of", len(first | later))


async def test_a_takeover_ended_by_its_own_connection_failing_is_tried_again(broker, tmp_path):
    """A holds more than a Receive Maximum of jobs (it was alone in the group) and dies;
    B, which joined after them and holds none of its own, takes A's session over while
    its store refuses commits for 20 s. The takeover's socket, a Receive Maximum
    unacknowledged, is not read: its UNSUBACK and PINGRESP wait, and the connection ends
    while B's own link stays up. That is not the session taken by someone else: B leaves
    A's will unacknowledged, tries again, and commits every job A held."""
    prefix = unique("retakeover")
    a_id, b_id = unique("a"), unique("b")
    stall = 20.0
    with held_intake(broker.host, broker.port, a_id, prefix, GROUP, HANDOVER_DELAY) as a:
        await a.wait_for("connected", 10)
        held = await publish_jobs(broker, prefix, range(1200))
        await eventually(lambda: len(held_by(a)) >= 1000, 20, poll=0.05)
        with stalled_intake(
            broker.host, broker.port, b_id, prefix, GROUP, HANDOVER_DELAY, stall
        ) as b:
            await b.wait_for("connected", 10)
            a.kill()

            async def all_committed() -> bool:
                return committed_by(b) == held

            try:
                await eventually(all_committed, stall + 60, poll=0.5)
            finally:
                b._collect()
                (tmp_path / "b.log").write_text("\n".join(b.lines), encoding="utf-8")
                print("b's output:", tmp_path / "b.log")
                print("missing:", len(held - committed_by(b)), "of", len(held))


async def test_a_daemon_back_in_the_middle_of_a_takeover_keeps_its_session(broker, tmp_path):
    """A dies holding jobs; B takes A's session over and holds them (its store refuses
    commits); A comes back and takes its session again. The broker closes B's takeover
    while B's own link stays up: the session is A's now, and B does not take it from A
    again (A would be cut off and sent everything it holds a second time)."""
    prefix = unique("back")
    a_id, b_id = unique("a"), unique("b")
    with stalled_intake(broker.host, broker.port, b_id, prefix, GROUP, HANDOVER_DELAY) as b:
        await b.wait_for("connected", 10)
        _first, held_a = await killed_and_taken_over(broker, prefix, a_id, b)
        with held_intake(broker.host, broker.port, a_id, prefix, GROUP, HANDOVER_DELAY) as a:
            await a.wait_for("connected", 10)
            await eventually(lambda: held_by(a) == held_a, 10, poll=0.05)
            # Past the broker's grace and a retry's back-off: a takeover tried again
            # would have cut A off by now, and A would be sent what it holds again.
            await asyncio.sleep(BROKER_GRACE + 4.0)
            again = len(a.got) - len(held_a)

    assert again == 0, f"A was sent {again} of its jobs again"
