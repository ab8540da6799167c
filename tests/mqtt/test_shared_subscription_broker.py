"""What mosquitto 2.0 does with a shared subscriber that dies holding in-flight messages.

Each test is one finding about the broker (not about our code), checked against the real
mosquitto: it fails if the broker behaves otherwise. The dying member is a process of its
own (tests/support/shared_member.py) that never acknowledges, as our intake acknowledges
only after the store's commit, and is killed with SIGKILL: its connection drops with no
DISCONNECT. The living member is another such process that acknowledges everything.

The findings, and what intake makes of them (README, "Two hosts"):

- mosquitto never hands a dead member's in-flight messages to another member: they stay in
  its session, sent again when that client id comes back;
- it keeps routing new messages to the dead member's session, round robin, as if it were
  alive, for as long as the session lasts;
- when the session expires (a short session expiry), what it held is dropped: lost;
- once the session is gone, every new message goes to the living;
- a client that connects under the dead member's client id with clean_start=False takes
  its session over: what it held comes out, and a session expiry of 0 on that connection
  ends the session when it closes, so nothing more is routed to it. That is what a living
  daemon does for a dead one (gateway/mqtt/adopt.py): nothing lost, nothing waiting.
"""

from __future__ import annotations

import asyncio
import uuid
from contextlib import AbstractContextManager

import aiomqtt
import pytest

from tests.support.broker import Broker
from tests.support.shared_member import Member, member
from tests.support.wait import eventually

# Processes of their own, and waits of QUIET to show that nothing more comes.
pytestmark = pytest.mark.slow

WEEK = 7 * 86400
# How long a message the broker would send still has to come, once none is expected: a
# local broker sends in milliseconds, so a message not sent in this time is not sent.
QUIET = 1.0
SPLIT = 10  # messages published in each step, shared between two members


def names() -> tuple[str, str]:
    """A topic of the test's own and its shared filter."""
    topic = f"share-{uuid.uuid4().hex[:8]}/SCT/sms"
    return topic, f"$share/g/{topic}"


async def publish(broker: Broker, topic: str, tag: str, count: int = SPLIT) -> list[str]:
    """`count` QoS 1 messages `tag0`, `tag1`, … from the agencies' side."""
    payloads = [f"{tag}{i}" for i in range(count)]
    async with aiomqtt.Client(broker.host, port=broker.port) as client:
        for payload in payloads:
            await client.publish(topic, payload, qos=1)
    return payloads


async def settled(*members: Member, total: int, timeout: float = 5.0) -> None:
    """Until the members together hold `total` messages, then QUIET more (bounded)."""
    await eventually(lambda: sum(len(m.got) for m in members) >= total, timeout)
    await asyncio.sleep(QUIET)


def start(
    broker: Broker, client_id: str, topic_filter: str, expiry: int, *, ack: bool = False
) -> AbstractContextManager[Member]:
    """A member in a process of its own on `broker`, killed on the way out."""
    return member(broker.host, broker.port, client_id, topic_filter, expiry, ack=ack)


class TestPersistentSession:
    async def test_a_dead_members_in_flight_messages_are_not_given_to_another_member(self, broker):
        topic, shared = names()
        dead_id = f"dead-{uuid.uuid4().hex[:8]}"
        with start(broker, f"live-{uuid.uuid4().hex[:8]}", shared, WEEK, ack=True) as live:
            await live.wait_for("subscribed")
            with start(broker, dead_id, shared, WEEK) as dead:
                await dead.wait_for("subscribed")
                await publish(broker, topic, "p")
                await settled(dead, live, total=SPLIT)
                held = dead.got
            before = list(live.got)
            await asyncio.sleep(QUIET * 2)

            assert held and live.got == before

    async def test_messages_published_while_a_member_is_dead_are_still_routed_to_its_session(
        self, broker
    ):
        topic, shared = names()
        dead_id = f"dead-{uuid.uuid4().hex[:8]}"
        with start(broker, f"live-{uuid.uuid4().hex[:8]}", shared, WEEK, ack=True) as live:
            await live.wait_for("subscribed")
            with start(broker, dead_id, shared, WEEK) as dead:
                await dead.wait_for("subscribed")
            await publish(broker, topic, "n")
            await settled(live, total=SPLIT // 2)

            assert len(live.got) == SPLIT // 2

    async def test_a_returning_member_gets_what_it_held_and_what_was_queued_for_it(self, broker):
        topic, shared = names()
        dead_id = f"dead-{uuid.uuid4().hex[:8]}"
        with start(broker, f"live-{uuid.uuid4().hex[:8]}", shared, WEEK, ack=True) as live:
            await live.wait_for("subscribed")
            with start(broker, dead_id, shared, WEEK) as dead:
                await dead.wait_for("subscribed")
                await publish(broker, topic, "p")
                await settled(dead, live, total=SPLIT)
                held = dead.got
            sent = await publish(broker, topic, "n")
            await settled(live, total=SPLIT)
            queued = [n for n in sent if n not in live.got]
            with start(broker, dead_id, shared, WEEK) as back:
                await settled(back, total=SPLIT)

                assert back.session_present and len(queued) == SPLIT // 2
                assert sorted(back.got) == sorted(held + queued)


class TestShortSession:
    async def test_what_a_dead_member_held_is_dropped_when_its_session_expires(self, broker):
        topic, shared = names()
        dead_id = f"dead-{uuid.uuid4().hex[:8]}"
        with start(broker, f"live-{uuid.uuid4().hex[:8]}", shared, WEEK, ack=True) as live:
            await live.wait_for("subscribed")
            with start(broker, dead_id, shared, 1) as dead:
                await dead.wait_for("subscribed")
                await publish(broker, topic, "p")
                await settled(dead, live, total=SPLIT)
                held = dead.got
            before = list(live.got)
            await asyncio.sleep(2 + QUIET)  # past the 1 s expiry
            with start(broker, dead_id, shared, 1) as back:
                await back.wait_for("subscribed")
                await asyncio.sleep(QUIET)

                assert held and back.session_present is False and back.got == []
                assert live.got == before

    async def test_once_a_dead_members_session_expired_every_new_message_goes_to_the_living(
        self, broker
    ):
        topic, shared = names()
        with start(broker, f"live-{uuid.uuid4().hex[:8]}", shared, WEEK, ack=True) as live:
            await live.wait_for("subscribed")
            with start(broker, f"dead-{uuid.uuid4().hex[:8]}", shared, 1) as dead:
                await dead.wait_for("subscribed")
            await asyncio.sleep(2)  # past the 1 s expiry
            sent = await publish(broker, topic, "n")
            await settled(live, total=SPLIT)

            assert live.got == sent


class TestTakingTheSessionOver:
    async def test_connecting_under_a_dead_members_client_id_delivers_what_it_held(self, broker):
        topic, shared = names()
        dead_id = f"dead-{uuid.uuid4().hex[:8]}"
        with start(broker, f"live-{uuid.uuid4().hex[:8]}", shared, WEEK, ack=True) as live:
            await live.wait_for("subscribed")
            with start(broker, dead_id, shared, WEEK) as dead:
                await dead.wait_for("subscribed")
                await publish(broker, topic, "p")
                await settled(dead, live, total=SPLIT)
                held = dead.got
            with start(broker, dead_id, shared, 0, ack=True) as adopter:
                await settled(adopter, total=len(held))

                assert adopter.session_present and sorted(adopter.got) == sorted(held)

    async def test_a_session_taken_over_with_expiry_zero_ends_and_takes_no_more_messages(
        self, broker
    ):
        topic, shared = names()
        dead_id = f"dead-{uuid.uuid4().hex[:8]}"
        with start(broker, f"live-{uuid.uuid4().hex[:8]}", shared, WEEK, ack=True) as live:
            await live.wait_for("subscribed")
            with start(broker, dead_id, shared, WEEK) as dead:
                await dead.wait_for("subscribed")
                await publish(broker, topic, "p")
                await settled(dead, live, total=SPLIT)
            with start(broker, dead_id, shared, 0, ack=True) as adopter:
                await settled(adopter, total=SPLIT // 2)
            before = len(live.got)
            sent = await publish(broker, topic, "z")
            await settled(live, total=before + SPLIT)

            assert live.got[before:] == sent
