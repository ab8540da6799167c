"""A link coming back to a session that holds more than a Receive Maximum of messages
(a daemon restarted after a burst arrived while it was down, or a connection its own
keep-alive dropped while intake's store was stalled)."""

from __future__ import annotations

import asyncio
import uuid

import aiomqtt
import pytest

from gateway.mqtt.link import MqttLink
from gateway.mqtt.settings import MqttSettings

pytestmark = pytest.mark.slow

BACKLOG = 1500  # above the link's receive_maximum (1000)


async def test_a_link_reconnects_to_a_session_holding_more_than_a_receive_maximum(broker):
    """The broker sends what the session holds ahead of the SUBACK, and the socket is not
    read while a Receive Maximum of it is unacknowledged: the link hands those messages
    out, and takes their acks, while the SUBACK is awaited, so it is answered."""
    topic = f"backlog-{uuid.uuid4().hex[:8]}/SCT/sms"
    settings = MqttSettings(
        host=broker.host, port=broker.port, client_id=f"backlog-{uuid.uuid4().hex[:8]}",
        reconnect_min=0.05, reconnect_max=0.3,
    )  # fmt: skip
    async with MqttLink(settings, [topic]) as link:
        await link.wait_connected(10)
    async with aiomqtt.Client(broker.host, port=broker.port) as agency:
        for n in range(BACKLOG):
            await agency.publish(topic, str(n).encode(), qos=1)

    got: set[bytes] = set()
    async with MqttLink(settings, [topic]) as link:

        async def consume() -> None:
            async for message in link.messages():
                got.add(message.payload)
                await link.ack(message)  # committed at once
                if len(got) == BACKLOG:
                    return

        # Within a subscribe's timeout (10 s) and a margin: not a reconnect loop.
        try:
            await asyncio.wait_for(consume(), 20)
        finally:
            connections = link._connections
            print(f"got {len(got)} of {BACKLOG} on {connections} connections")
    assert len(got) == BACKLOG


async def test_a_link_whose_store_stalls_past_the_keep_alive_takes_every_message_after(broker):
    """A Receive Maximum of messages unacknowledged (the store stalled) for several
    keep-alive periods, the session holding more behind them; once the store commits
    again every message is acknowledged, and the session is left holding none."""
    topic = f"stall-{uuid.uuid4().hex[:8]}/SCT/sms"
    settings = MqttSettings(
        host=broker.host, port=broker.port, client_id=f"stall-{uuid.uuid4().hex[:8]}",
        keepalive=1, reconnect_min=0.05, reconnect_max=0.3,
    )  # fmt: skip
    async with MqttLink(settings, [topic]) as link:
        await link.wait_connected(10)
    async with aiomqtt.Client(broker.host, port=broker.port) as agency:
        for n in range(BACKLOG):
            await agency.publish(topic, str(n).encode(), qos=1)

    got: set[bytes] = set()
    async with MqttLink(settings, [topic]) as link:
        messages = link.messages()
        held = [await asyncio.wait_for(anext(messages), 10) for _ in range(1000)]
        await asyncio.sleep(4 * settings.keepalive)  # the store stalled
        for message in held:
            got.add(message.payload)
            await link.ack(message)

        async def consume() -> None:
            async for message in messages:
                got.add(message.payload)
                await link.ack(message)
                if len(got) == BACKLOG:
                    return

        try:
            await asyncio.wait_for(consume(), 30)
        finally:
            print(f"got {len(got)} of {BACKLOG} on {link._connections} connections")
    async with MqttLink(settings, [topic]) as link:
        await link.wait_connected(10)
        await asyncio.sleep(1.0)  # anything the session still held would be here by now
        left = link.unacknowledged
    assert (len(got), left) == (BACKLOG, 0)
