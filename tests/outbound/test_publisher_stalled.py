"""The status publisher of a daemon stalled past its lease and resumed, through a real
mosquitto: the statuses it had claimed may be another daemon's by now, so it publishes
none of them until its next heartbeat, and then only those still its own: each status is
published once, by the daemon that holds it."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from gateway.domain.states import MessageState
from gateway.domain.status_event import status_payload
from gateway.mqtt.link import MqttLink, MqttSettings
from gateway.outbound.publisher import publish_statuses
from gateway.store import statuses
from tests.support.clock import NOON, Clock
from tests.support.daemon import StatusWatch
from tests.support.daemons import LEASE, claimant, daemon_store


def status(agency: str, n: int) -> tuple[str, str]:
    return agency, status_payload(
        ref=f"{agency}-{n:03d}", event_id=None, receipt_no=None, kind="sms",
        phone="84912345678", state=MessageState.QUEUED, reason=None, segments=1, at=NOON,
    )  # fmt: skip


async def test_a_publisher_resumed_past_its_lease_publishes_none_another_daemon_took(
    broker, store_location
):
    prefix = f"stalled-{uuid.uuid4().hex[:6]}"
    clock = Clock(NOON)
    mono = Clock(1_000.0)
    settings = MqttSettings(host=broker.host, port=broker.port, client_id=f"{prefix}-a")
    async with (
        daemon_store(store_location, claimant("a"), clock, monotonic=mono) as a,
        daemon_store(store_location, claimant("b"), clock) as b,
        StatusWatch(broker.port, prefix) as watch,
        MqttLink(settings, []) as link,
    ):
        await a.database.write(statuses.insert, [status("SCT", n) for n in range(5)])
        assert len(await a.statuses.pending()) == 5  # a claims them; then a stops
        mono.now += LEASE + 1
        clock.now = NOON + LEASE + 1
        publisher = asyncio.create_task(publish_statuses(a.statuses, link, prefix))
        try:
            await asyncio.sleep(0.5)  # a runs again, before its next heartbeat
            published_while_stalled = len(watch.events)
            assert await b.daemons.beat()
            taken = await b.statuses.pending()  # b publishes them
            assert await a.daemons.beat()
            await a.database.write(statuses.insert, [status("STP", 0)])  # a's own, new
            await watch.wait_for(lambda ev: len(ev) >= 1, timeout=10)
            await asyncio.sleep(0.5)  # a second copy of any, were there one, arrives
        finally:
            publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await publisher

    assert published_while_stalled == 0
    assert len(taken) == 5
    assert [e["id"] for e in watch.events] == ["STP-000"]
