"""The MQTT link against a real mosquitto: nothing is acknowledged before `ack()`,
what is not acknowledged comes back, and the link outlives the broker."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator

import aiomqtt
import pytest
import structlog

from gateway.mqtt.link import Inbound, LinkClosedError, MqttLink, MqttSettings
from tests.support.broker import Broker
from tests.support.wait import eventually

WAIT = 5.0  # seconds; generous for a local broker, short enough to fail fast


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def settings_for(broker: Broker, client_id: str) -> MqttSettings:
    return MqttSettings(
        host=broker.host,
        port=broker.port,
        client_id=client_id,
        keepalive=5,
        session_expiry=300,
        reconnect_min=0.05,
        reconnect_max=0.3,
    )


async def publish(broker: Broker, topic: str, *payloads: bytes, retain: bool = False) -> None:
    """Publish from the agencies' side: a plain client, QoS 1."""
    async with aiomqtt.Client(broker.host, port=broker.port) as client:
        for payload in payloads:
            await client.publish(topic, payload, qos=1, retain=retain)


async def receive(messages: AsyncIterator[Inbound], count: int = 1) -> list[Inbound]:
    async with asyncio.timeout(WAIT):
        return [await anext(messages) for _ in range(count)]


async def subscribe_once(broker: Broker, client_id: str, topic: str) -> None:
    """Create the persistent session and its subscription, then go away."""
    async with MqttLink(settings_for(broker, client_id), [topic]) as link:
        await link.wait_connected(WAIT)


class TestReceive:
    async def test_published_message_arrives_with_topic_and_payload(self, broker):
        """A QoS 1 message published to a subscribed topic comes out of `messages()`."""
        topic = f"{unique('t')}/SCT/dossier"
        async with MqttLink(settings_for(broker, unique("c")), [topic]) as link:
            await link.wait_connected(WAIT)
            await publish(broker, topic, b'{"event_id": "e-1"}')
            [message] = await receive(link.messages())

        assert (topic, b'{"event_id": "e-1"}', 1) == (message.topic, message.payload, message.qos)

    async def test_messages_ends_when_the_link_closes(self, broker):
        """`messages()` never ends while the link is open, and ends when it closes."""
        link = MqttLink(settings_for(broker, unique("c")), [unique("t")])
        async with link:
            await link.wait_connected(WAIT)
            reader = asyncio.create_task(anext(link.messages(), "ended"))
            await asyncio.sleep(0.1)
            assert not reader.done()

        assert await asyncio.wait_for(reader, WAIT) == "ended"


class TestOversizePayloads:
    async def test_payload_over_the_limit_arrives_empty_with_its_size(self, broker):
        """Not held in memory, but still there to be refused by size and acknowledged."""
        topic, client_id = unique("t"), unique("c")
        settings = dataclasses.replace(settings_for(broker, client_id), max_payload=1000)
        async with MqttLink(settings, [topic]) as link:
            await link.wait_connected(WAIT)
            await publish(broker, topic, b"x" * 5000, b"y" * 1000)
            big, fits = await receive(link.messages(), 2)
            await link.ack(big)
            await link.ack(fits)

        assert (big.payload, big.dropped) == (b"", 5000)
        assert (fits.payload, fits.dropped) == (b"y" * 1000, 0)

    async def test_oversize_message_once_acked_is_not_redelivered(self, broker):
        topic, client_id = unique("t"), unique("c")
        settings = dataclasses.replace(settings_for(broker, client_id), max_payload=10)
        async with MqttLink(settings, [topic]) as link:
            await link.wait_connected(WAIT)
            await publish(broker, topic, b"x" * 50)
            [big] = await receive(link.messages())
            await link.ack(big)

        async with MqttLink(settings, [topic]) as link:
            await link.wait_connected(WAIT)
            await publish(broker, topic, b"next")
            [first] = await receive(link.messages())

        assert first.payload == b"next"


class TestAcknowledgement:
    async def test_unacked_message_is_redelivered_to_the_same_client_id(self, broker):
        """A message never acked is delivered again when the client id comes back."""
        topic, client_id = unique("t"), unique("c")
        async with MqttLink(settings_for(broker, client_id), [topic]) as link:
            await link.wait_connected(WAIT)
            await publish(broker, topic, b"not-committed")
            await receive(link.messages())

        async with MqttLink(settings_for(broker, client_id), [topic]) as link:
            [again] = await receive(link.messages())

        assert again.payload == b"not-committed"

    async def test_acked_message_is_not_redelivered(self, broker):
        """Once acked, a message is gone: the next session starts with newer messages."""
        topic, client_id = unique("t"), unique("c")
        async with MqttLink(settings_for(broker, client_id), [topic]) as link:
            await link.wait_connected(WAIT)
            await publish(broker, topic, b"committed")
            [message] = await receive(link.messages())
            await link.ack(message)

        async with MqttLink(settings_for(broker, client_id), [topic]) as link:
            await link.wait_connected(WAIT)
            await publish(broker, topic, b"next")
            [first] = await receive(link.messages())

        assert first.payload == b"next"

    async def test_messages_waiting_at_connect_are_not_acked_on_arrival(self, broker):
        """Messages the broker sends right behind CONNACK wait for `ack()` like any other."""
        topic, client_id = unique("t"), unique("c")
        await subscribe_once(broker, client_id, topic)
        payloads = [b"m%d" % i for i in range(10)]
        await publish(broker, topic, *payloads)
        async with MqttLink(settings_for(broker, client_id), [topic]) as link:
            await receive(link.messages(), len(payloads))

        async with MqttLink(settings_for(broker, client_id), [topic]) as link:
            again = await receive(link.messages(), len(payloads))

        assert payloads == [m.payload for m in again]

    async def test_acking_twice_is_harmless(self, broker):
        """A second ack of the same message neither raises nor acks anything else."""
        topic, client_id = unique("t"), unique("c")
        async with MqttLink(settings_for(broker, client_id), [topic]) as link:
            await link.wait_connected(WAIT)
            await publish(broker, topic, b"one", b"two")
            one, _two = await receive(link.messages(), 2)
            await link.ack(one)
            await link.ack(one)

        async with MqttLink(settings_for(broker, client_id), [topic]) as link:
            [again] = await receive(link.messages())

        assert again.payload == b"two"

    async def test_ack_of_a_message_from_a_dead_connection_does_not_raise(self, fresh_broker):
        """Acking after the connection died does nothing; the broker delivers it again."""
        topic = unique("t")
        async with MqttLink(settings_for(fresh_broker, unique("c")), [topic]) as link:
            messages = link.messages()
            await link.wait_connected(WAIT)
            await publish(fresh_broker, topic, b"in-flight")
            [message] = await receive(messages)
            await asyncio.to_thread(fresh_broker.stop)
            await eventually(lambda: not link.connected)

            await link.ack(message)

            await asyncio.to_thread(fresh_broker.start)
            [again] = await receive(messages)

        assert again.payload == b"in-flight"

    async def test_ack_of_a_hand_made_message_does_nothing(self, broker):
        """An `Inbound` built by hand (tests, replays) belongs to no connection."""
        async with MqttLink(settings_for(broker, unique("c")), []) as link:
            await link.ack(Inbound(topic="t", payload=b"", mid=1, qos=1))

        assert not link.connected


class TestPersistentSession:
    async def test_messages_published_while_offline_arrive_on_reconnect(self, broker):
        """After one subscription, the broker queues QoS 1 messages while we are away."""
        topic, client_id = unique("t"), unique("c")
        await subscribe_once(broker, client_id, topic)
        await publish(broker, topic, b"while-away-1", b"while-away-2")

        async with MqttLink(settings_for(broker, client_id), [topic]) as link:
            received = await receive(link.messages(), 2)

        assert [m.payload for m in received] == [b"while-away-1", b"while-away-2"]

    async def test_link_reconnects_after_broker_restart_and_gets_unacked_again(self, fresh_broker):
        """The link comes back by itself after a broker restart and keeps receiving;
        a message not acked before the restart is delivered again after it."""
        topic = unique("t")
        async with MqttLink(settings_for(fresh_broker, unique("c")), [topic]) as link:
            messages = link.messages()
            await link.wait_connected(WAIT)
            await publish(fresh_broker, topic, b"before")
            await receive(messages)

            await asyncio.to_thread(fresh_broker.stop)
            await asyncio.to_thread(fresh_broker.start)
            await publish(fresh_broker, topic, b"after")
            received = await receive(messages, 2)
            # What the session held comes ahead of the SUBACK, and is handed out meanwhile.
            await link.wait_connected(WAIT)

            assert link.connected
        assert sorted(m.payload for m in received) == [b"after", b"before"]


class TestPublish:
    async def test_publish_reaches_another_subscriber(self, broker):
        """`publish` delivers at QoS 1 to whoever subscribes to the topic."""
        topic = f"{unique('t')}/SCT/status"
        async with aiomqtt.Client(broker.host, port=broker.port) as other:
            await other.subscribe(topic, qos=1)
            async with MqttLink(settings_for(broker, unique("c")), []) as link:
                await link.publish(topic, b'{"state": "queued"}')
            async with asyncio.timeout(WAIT):
                message = await anext(aiter(other.messages))

        assert (message.payload, message.qos) == (b'{"state": "queued"}', 1)

    async def test_publish_waits_for_the_broker_to_come_back(self, fresh_broker):
        """A publish issued while the broker is down completes once it is back."""
        topic = unique("t")
        async with MqttLink(settings_for(fresh_broker, unique("c")), []) as link:
            await link.wait_connected(WAIT)
            await asyncio.to_thread(fresh_broker.stop)
            await eventually(lambda: not link.connected)
            sending = asyncio.create_task(link.publish(topic, b"late", retain=True))
            await asyncio.sleep(0.1)
            assert not sending.done()

            await asyncio.to_thread(fresh_broker.start)
            await asyncio.wait_for(sending, WAIT)

        async with aiomqtt.Client(fresh_broker.host, port=fresh_broker.port) as other:
            await other.subscribe(topic, qos=1)
            async with asyncio.timeout(WAIT):
                message = await anext(aiter(other.messages))
        assert message.payload == b"late"

    @pytest.mark.slow
    async def test_publishes_interrupted_by_a_lost_connection_resume_from_the_oldest(self, broker):
        """The connection is taken away mid-stream (another client with our id): what
        was not acknowledged is published again from the oldest on, so the last copy of
        each arrives in order (the ones after it possibly twice)."""
        topic = f"{unique('t')}/SCT/status"
        client_id = unique("c")
        payloads = [f"{n:05d}".encode() for n in range(3000)]
        received: list[bytes] = []
        async with aiomqtt.Client(broker.host, port=broker.port) as other:
            await other.subscribe(topic, qos=1)

            async def watch() -> None:
                async for message in other.messages:
                    received.append(bytes(message.payload))  # type: ignore[arg-type]

            watcher = asyncio.create_task(watch())
            async with MqttLink(settings_for(broker, client_id), []) as link:
                await link.wait_connected(WAIT)
                counted: list[int] = []
                sending = asyncio.create_task(
                    link.publish_all(topic, payloads, accepted=counted.append)
                )
                await eventually(lambda: bool(counted))
                async with aiomqtt.Client(broker.host, port=broker.port, identifier=client_id):
                    pass  # takes the session, and our connection with it
                await asyncio.wait_for(sending, 4 * WAIT)
            await eventually(lambda: set(received) == set(payloads))
            watcher.cancel()

        last = {payload: at for at, payload in enumerate(received)}
        assert sorted(last, key=last.__getitem__) == payloads
        assert counted == sorted(counted) and counted[-1] == len(payloads)

    async def test_publish_raises_when_the_link_closes(self, fresh_broker):
        """A publish still waiting for a connection fails when the link closes."""
        async with MqttLink(settings_for(fresh_broker, unique("c")), []) as link:
            await link.wait_connected(WAIT)
            await asyncio.to_thread(fresh_broker.stop)
            await eventually(lambda: not link.connected)
            sending = asyncio.create_task(link.publish(unique("t"), b"never"))
            await asyncio.sleep(0.1)

        with pytest.raises(LinkClosedError):
            await asyncio.wait_for(sending, WAIT)


class TestLifecycle:
    async def test_link_is_reusable_but_not_reentrant(self, broker):
        """Entering an open link again is refused; entering it after exit works."""
        link = MqttLink(settings_for(broker, unique("c")), [])
        async with link:
            with pytest.raises(RuntimeError, match="not reentrant"):
                await link.__aenter__()
        async with link:
            await link.wait_connected(WAIT)

            assert link.connected

    async def test_waits_with_backoff_while_the_broker_is_down(self, fresh_broker):
        """With no broker, the link keeps trying and connects as soon as one appears."""
        fresh_broker.stop()
        async with MqttLink(settings_for(fresh_broker, unique("c")), []) as link:
            with pytest.raises(TimeoutError):
                await link.wait_connected(0.3)
            await asyncio.to_thread(fresh_broker.start)
            await link.wait_connected(WAIT)

            assert link.connected

    async def test_logs_connection_events_never_payloads(self, broker):
        """Connection events are logged; a message's payload never is."""
        topic = unique("t")
        with structlog.testing.capture_logs() as logs:
            async with MqttLink(settings_for(broker, unique("c")), [topic]) as link:
                await link.wait_connected(WAIT)
                await publish(broker, topic, b"0905123456 secret body")
                [message] = await receive(link.messages())
                await link.ack(message)

        assert [entry["event"] for entry in logs] == ["mqtt_connected"]
        assert "0905123456" not in repr(logs)


class TestFlowControl:
    """At most `receive_maximum` messages unacknowledged in the daemon, whatever the
    broker sends: the rest wait at the broker, not in our memory."""

    @pytest.mark.slow
    async def test_reading_resumes_as_messages_are_acknowledged(self, broker):
        """mosquitto 2.0 sends beyond Receive Maximum once acknowledgements flow; the
        link never holds more than that, and every message still arrives, in order."""
        topic, client_id = unique("t"), unique("c")
        settings = dataclasses.replace(settings_for(broker, client_id), receive_maximum=20)
        payloads = [b"m%d" % i for i in range(1000)]
        async with MqttLink(settings, [topic]) as link:
            await link.wait_connected(WAIT)
            publisher = asyncio.create_task(publish(broker, topic, *payloads))
            got: list[bytes] = []
            most = 0
            async with asyncio.timeout(4 * WAIT):
                async for message in link.messages():
                    most = max(most, link.unacknowledged)
                    got.append(message.payload)
                    await asyncio.sleep(0.001)  # committing it
                    await link.ack(message)
                    if len(got) == len(payloads):
                        break
            await publisher

        assert got == payloads
        assert most <= 20
