"""Taking over a gone daemon's session (gateway/mqtt/adopt.py) and the will that announces
it (gateway/mqtt/client.py), against the real mosquitto. The gone daemon is a member in a
process of its own that never acknowledges, killed with SIGKILL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager

import aiomqtt
import pytest

from gateway.mqtt.adopt import Adoption, SessionClosedError
from gateway.mqtt.connection import Inbound
from gateway.mqtt.link import MqttLink, MqttSettings
from tests.support.broker import Broker
from tests.support.shared_member import Member, member
from tests.support.wait import eventually

pytestmark = pytest.mark.slow  # processes of their own, waits of QUIET

WEEK = 7 * 86400
QUIET = 0.3  # the takeovers' here, shorter than production's
WAIT = 5.0


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def settings_for(broker: Broker, client_id: str, **over: object) -> MqttSettings:
    return MqttSettings(
        host=broker.host, port=broker.port, client_id=client_id, keepalive=5,
        reconnect_min=0.05, reconnect_max=0.3, **over,  # type: ignore[arg-type]
    )  # fmt: skip


def start(
    broker: Broker, client_id: str, topic_filter: str, *, expiry: int = WEEK, ack: bool = False
) -> AbstractContextManager[Member]:
    return member(broker.host, broker.port, client_id, topic_filter, expiry, ack=ack)


async def publish(broker: Broker, topic: str, tag: str, count: int = 10) -> list[str]:
    payloads = [f"{tag}{i}" for i in range(count)]
    async with aiomqtt.Client(broker.host, port=broker.port) as client:
        for payload in payloads:
            await client.publish(topic, payload, qos=1)
    return payloads


async def gone_member_holding(
    broker: Broker, live: Member, shared: str, topic: str
) -> tuple[str, list[str]]:
    """A member that took its share of 10 messages and was killed holding them."""
    gone = unique("gone")
    with start(broker, gone, shared) as dead:
        await dead.wait_for("subscribed")
        await publish(broker, topic, "p")
        await eventually(lambda: len(dead.got) + len(live.got) == 10)
        held = dead.got
    return gone, held


async def drain(messages: AsyncIterator[Inbound], adoption: Adoption) -> list[str]:
    got = []
    async with asyncio.timeout(WAIT):
        async for message in messages:
            got.append(message.payload.decode())
            await adoption.ack(message)
    return got


def names() -> tuple[str, str]:
    topic = f"adopt-{uuid.uuid4().hex[:8]}/SCT/sms"
    return topic, f"$share/g/{topic}"


class TestAdoption:
    async def test_a_takeover_hands_out_what_the_gone_session_held_then_ends_it(self, broker):
        topic, shared = names()
        with start(broker, unique("live"), shared, ack=True) as live:
            await live.wait_for("subscribed")
            gone, held = await gone_member_holding(broker, live, shared, topic)
            adoption = Adoption(settings_for(broker, "us"), gone, [shared], quiet=QUIET)

            got = await drain(adoption.messages(), adoption)
            before = len(live.got)
            sent = await publish(broker, topic, "z")
            await eventually(lambda: len(live.got) == before + len(sent))

        assert held and sorted(got) == sorted(held) and adoption.session_present
        assert live.got[before:] == sent  # the session is gone: nothing routed to it

    async def test_a_takeover_of_a_session_that_is_gone_hands_out_nothing_and_leaves_none(
        self, broker
    ):
        gone = unique("never")
        adoption = Adoption(settings_for(broker, "us"), gone, [], quiet=QUIET)

        got = await drain(adoption.messages(), adoption)
        with start(broker, gone, f"{unique('t')}/x") as again:
            await again.wait_for("subscribed")

            assert got == [] and adoption.session_present is False
            assert again.session_present is False

    async def test_a_takeover_lasts_while_a_message_it_handed_out_is_unacknowledged(self, broker):
        topic, shared = names()
        with start(broker, unique("live"), shared, ack=True) as live:
            await live.wait_for("subscribed")
            gone, held = await gone_member_holding(broker, live, shared, topic)
            adoption = Adoption(settings_for(broker, "us"), gone, [shared], quiet=QUIET)
            messages = adoption.messages()
            first = await asyncio.wait_for(anext(messages), WAIT)
            rest = asyncio.create_task(drain(messages, adoption))
            await asyncio.sleep(QUIET * 4)
            still_running = not rest.done()
            await adoption.ack(first)
            got = await asyncio.wait_for(rest, WAIT)

        assert still_running
        assert sorted([first.payload.decode(), *got]) == sorted(held)

    async def test_a_takeover_ends_saying_the_broker_closed_it_when_the_daemon_comes_back(
        self, broker
    ):
        topic, shared = names()
        with start(broker, unique("live"), shared, ack=True) as live:
            await live.wait_for("subscribed")
            gone, _ = await gone_member_holding(broker, live, shared, topic)
            adoption = Adoption(settings_for(broker, "us"), gone, [shared], quiet=QUIET)
            messages = adoption.messages()
            first = await asyncio.wait_for(anext(messages), WAIT)
            with start(broker, gone, shared) as back:
                with pytest.raises(SessionClosedError):
                    await drain(messages, adoption)
                await eventually(lambda: first.payload.decode() in back.got)

        assert back.session_present

    async def test_a_takeover_hands_out_a_session_holding_more_than_its_receive_maximum(
        self, broker
    ):
        """The broker sends a Receive Maximum of what the session holds right behind
        CONNACK, and the takeover's socket is not read while that many are unacknowledged:
        the takeover hands them out while its unsubscribe awaits the broker's answer."""
        topic, shared = names()
        gone = unique("gone")
        with start(broker, gone, shared) as dead:
            await dead.wait_for("subscribed")
            held = await publish(broker, topic, "p", count=20)
            await eventually(lambda: len(dead.got) == len(held))
        settings = settings_for(broker, "us", receive_maximum=4)
        adoption = Adoption(settings, gone, [shared], quiet=QUIET)

        got = await drain(adoption.messages(), adoption)

        assert sorted(got) == sorted(held) and adoption.session_present


class TestWill:
    async def test_a_stopping_link_with_shared_intake_has_its_will_sent(self, broker):
        gone_topic = f"{unique('w')}/_gateway/g/gone"
        client_id = unique("sharer")
        with start(broker, unique("ear"), gone_topic, ack=True) as ear:
            await ear.wait_for("subscribed")
            settings = settings_for(broker, client_id, gone_topic=gone_topic, will_delay=1)
            async with MqttLink(settings, []) as link:
                await link.wait_connected(WAIT)
            await eventually(lambda: ear.got == [client_id], WAIT)

    async def test_a_link_alone_leaves_no_will(self, broker):
        with start(broker, unique("ear"), "#", ack=True) as ear:
            await ear.wait_for("subscribed")
            alone = unique("alone")
            async with MqttLink(settings_for(broker, alone), []) as link:
                await link.wait_connected(WAIT)
            await asyncio.sleep(1.5)  # past the 1 s delay a will would have had

            assert alone not in ear.got
