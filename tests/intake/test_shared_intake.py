"""Intake shared by several daemons (`mqtt.shared_group`) on one real mosquitto.

Each daemon here is the gateway's own intake (`serve` on an `MqttLink`) on a SQLite store
of its own, so what each committed can be told apart; on one shared store the repeats a
handover may cause would be absorbed by its idempotency. A daemon that dies is the
gateway's link in a process of its own that never commits (tests/support/held_intake.py),
killed with SIGKILL while it holds what it received.
"""

from __future__ import annotations

import asyncio
import json
import time

import aiomqtt
import pytest

from gateway.intake.serving import serve_intake as serve
from gateway.mqtt.adopt import QUIET
from gateway.store.store import Store
from tests.support.held_intake import held_intake
from tests.support.intake import intake_on
from tests.support.shared_intake import (
    GROUP,
    HANDOVER_BOUND,
    HANDOVER_DELAY,
    daemon,
    held_by,
    link_for,
    publish_jobs,
    refs,
    shared_config,
    unique,
)
from tests.support.wait import eventually

pytestmark = pytest.mark.slow  # processes of their own, bursts, handover delays


async def test_each_of_200_jobs_is_taken_by_exactly_one_of_two_daemons(broker, tmp_path):
    prefix = unique("shared")
    cfg = shared_config(broker, prefix)
    async with (
        daemon(cfg, tmp_path / "a.db", unique("a")) as a,
        daemon(cfg, tmp_path / "b.db", unique("b")) as b,
    ):
        sent = await publish_jobs(broker, prefix, range(200))

        async def all_taken() -> bool:
            return len(await refs(a)) + len(await refs(b)) >= len(sent)

        await eventually(all_taken, 30, poll=0.05)
        await asyncio.sleep(QUIET)  # nothing more comes: no job taken twice late
        taken_a, taken_b = await refs(a), await refs(b)

    assert taken_a | taken_b == sent
    assert taken_a & taken_b == set()
    assert taken_a and taken_b


async def test_what_a_killed_daemon_held_is_committed_by_the_other_within_the_bound(
    broker, tmp_path
):
    """A daemon killed (no DISCONNECT) holding uncommitted jobs, and jobs published after
    its death (the broker routes some to its session): all reach the other daemon."""
    prefix = unique("killed")
    cfg = shared_config(broker, prefix)
    async with daemon(cfg, tmp_path / "b.db", unique("b")) as b:
        with held_intake(
            broker.host, broker.port, unique("a"), prefix, GROUP, HANDOVER_DELAY
        ) as a:
            await a.wait_for("connected", 10)
            first = await publish_jobs(broker, prefix, range(40))

            async def shared_out() -> bool:
                return len(held_by(a)) + len(await refs(b)) == len(first)

            await eventually(shared_out, 10, poll=0.05)
            held = held_by(a)
            a.kill()
            died = time.monotonic()
        later = await publish_jobs(broker, prefix, range(40, 60))

        async def all_committed() -> bool:
            return await refs(b) == first | later

        await eventually(all_committed, HANDOVER_BOUND, poll=0.05)
        took = time.monotonic() - died
        # The session taken over is gone: none of what comes next waits in it.
        after = await publish_jobs(broker, prefix, range(60, 80))

        async def after_committed() -> bool:
            return after <= await refs(b)

        await eventually(after_committed, 10, poll=0.05)

    assert held and held <= first
    assert took < HANDOVER_BOUND


async def test_what_a_stopped_daemon_held_is_committed_by_the_other(broker, tmp_path):
    """A daemon that stops with jobs received and not committed leaves them to the others
    (its DISCONNECT asks for its will), rather than to its own return."""
    prefix = unique("stopped")
    cfg = shared_config(broker, prefix)
    async with daemon(cfg, tmp_path / "b.db", unique("b")) as b:
        held: set[str] = set()
        async with link_for(cfg, unique("a")) as a:
            await a.wait_connected(10)
            sent = await publish_jobs(broker, prefix, range(20))

            async def shared_out() -> bool:
                return len(held) + len(await refs(b)) == len(sent)

            async def hold() -> None:
                async for message in a.messages():
                    held.add(json.loads(message.payload)["id"])

            holding = asyncio.create_task(hold())
            await eventually(shared_out, 10, poll=0.05)
            holding.cancel()

        async def all_committed() -> bool:
            return await refs(b) == sent

        await eventually(all_committed, HANDOVER_BOUND, poll=0.05)

    assert held


async def test_a_daemon_back_within_the_handover_delay_keeps_what_it_held(broker, tmp_path):
    """A restart shorter than `mqtt.handover_delay`: the will is not sent, nobody takes
    the session over, and the daemon gets what it held again."""
    prefix = unique("back")
    cfg = shared_config(broker, prefix)
    client_id = unique("a")
    async with daemon(cfg, tmp_path / "b.db", unique("b")) as b:
        with held_intake(broker.host, broker.port, client_id, prefix, GROUP, 30) as a:
            await a.wait_for("connected", 10)
            first = await publish_jobs(broker, prefix, range(20))

            async def shared_out() -> bool:
                return len(held_by(a)) + len(await refs(b)) == len(first)

            await eventually(shared_out, 10, poll=0.05)
            held = held_by(a)
        with held_intake(broker.host, broker.port, client_id, prefix, GROUP, 30) as again:
            await eventually(lambda: held_by(again) == held, 10)
            await asyncio.sleep(HANDOVER_DELAY + QUIET)

            assert held and not held & await refs(b)


async def test_a_will_naming_the_daemon_itself_is_acknowledged_and_changes_nothing(
    broker, tmp_path
):
    """Its own will, from a life before this one, queued in its session: nothing to take
    over (taking its own session would throw its own connection off)."""
    prefix = unique("own")
    cfg = shared_config(broker, prefix)
    client_id = unique("a")
    async with Store.open(tmp_path / "a.db") as store, link_for(cfg, client_id) as link:
        await link.wait_connected(10)
        task = asyncio.create_task(serve(link, intake_on(store, cfg)))
        try:
            async with aiomqtt.Client(broker.host, port=broker.port) as other:
                await other.publish(cfg.mqtt.gone_topic, client_id.encode(), qos=1)
            dropped = False
            async with asyncio.timeout(HANDOVER_BOUND):
                for _ in range(150):  # 1.5 s
                    dropped = dropped or not link.connected
                    await asyncio.sleep(0.01)
            sent = await publish_jobs(broker, prefix, range(5))

            async def committed_and_acknowledged() -> bool:
                return await refs(store) == sent and link.unacknowledged == 0

            await eventually(committed_and_acknowledged, 10, poll=0.05)
        finally:
            task.cancel()

    assert not dropped
