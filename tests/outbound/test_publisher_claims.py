"""Two daemons' status publishers on one store, through a real mosquitto: every status is
published once, and each agency's in the order its changes were committed."""

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
from tests.support.daemons import daemon_stores

AGENCIES = ("SCT", "STP", "SYT")
ROUNDS = 20


def status(agency: str, n: int) -> tuple[str, str]:
    return agency, status_payload(
        ref=f"{agency}-{n:03d}", event_id=None, receipt_no=None, kind="sms",
        phone="84912345678", state=MessageState.QUEUED, reason=None, segments=1, at=NOON,
    )  # fmt: skip


async def test_two_daemons_publish_every_status_once_and_each_agency_in_order(
    broker, store_location
):
    prefix = f"claims-{uuid.uuid4().hex[:6]}"
    async with (
        daemon_stores(store_location, ["a", "b"], Clock(NOON)) as (a, b),
        StatusWatch(broker.port, prefix) as watch,
        MqttLink(MqttSettings(host=broker.host, port=broker.port, client_id=f"{prefix}-a"), [])
        as link_a,
        MqttLink(MqttSettings(host=broker.host, port=broker.port, client_id=f"{prefix}-b"), [])
        as link_b,
    ):
        publishers = [
            asyncio.create_task(publish_statuses(store.statuses, link, prefix))
            for store, link in ((a, link_a), (b, link_b))
        ]
        try:
            for n in range(ROUNDS):  # committed a round at a time, while both publish
                await (a if n % 2 else b).database.write(
                    statuses.insert, [status(agency, n) for agency in AGENCIES]
                )
                await asyncio.sleep(0.01)
            await watch.wait_for(lambda ev: len(ev) >= ROUNDS * len(AGENCIES), timeout=20)
            await asyncio.sleep(0.5)  # a second copy of any, were there one, arrives
        finally:
            for task in publishers:
                task.cancel()
            for task in publishers:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    ids = [e["id"] for e in watch.events]
    assert sorted(ids) == sorted(f"{ag}-{n:03d}" for ag in AGENCIES for n in range(ROUNDS))
    for agency in AGENCIES:
        mine = [i for i in ids if i.startswith(agency)]
        assert mine == sorted(mine), agency
