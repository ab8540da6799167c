"""The fence around aiomqtt's and paho's internals (gateway/mqtt/connection.py).

What `Connection` assumes of the pinned aiomqtt and paho releases, checked against a real
mosquitto: an upgrade that breaks acknowledgements or flow control fails here, loudly,
instead of losing messages quietly. And nothing else in the gateway reaches into any
library's internals.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import importlib.metadata
import select
import time
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest
from aiomqtt import ProtocolVersion
from paho.mqtt.client import Client as PahoClient
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

import gateway
from gateway.mqtt.connection import CHECKED_WITH, FENCED, Connection, Inbound, RefusedError
from tests.support.broker import INSTALL_HINT, Broker, find_mosquitto
from tests.support.wait import eventually

WAIT = 5.0  # seconds, for every wait below
ROOT = Path(gateway.__file__).parent.parent
FENCE = ROOT / "gateway" / "mqtt" / "connection.py"
USER, PASSWORD = "fence", "fence-pw"


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


async def publish(broker: Broker, topic: str, *payloads: bytes) -> None:
    """From the agencies' side: a plain client, QoS 1, each accepted by the broker."""
    async with aiomqtt.Client(broker.host, port=broker.port) as client:
        for payload in payloads:
            await client.publish(topic, payload, qos=1)


class Session:
    """One connection through the fence, made as MqttLink makes it (MQTT 5, a persistent
    session, hooked before CONNECT), with what it receives collected in `received`.

    No Receive Maximum is announced, so the broker sends everything it has at once and
    only the fence's flow control holds messages back.
    """

    def __init__(
        self, broker: Broker, client_id: str, *, topic: str | None = None, limit: int = 1000,
        username: str | None = None, password: str | None = None,
    ) -> None:  # fmt: skip
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = 300
        client = aiomqtt.Client(
            broker.host, port=broker.port, identifier=client_id, username=username,
            password=password, protocol=ProtocolVersion.V5, clean_start=False,
            properties=properties,
        )  # fmt: skip
        self.connection = Connection(client, 1, limit=limit)
        self.topic = topic
        self.received: list[Inbound] = []
        self.reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Session:
        connection = self.connection
        connection.hook(deliver=self.received.append, max_payload=None)
        await connection.client.__aenter__()
        connection.up_since = time.monotonic()
        if self.topic is not None:
            await connection.client.subscribe(self.topic, qos=1)
        self.reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        async for message in self.connection.client.messages:
            inbound = Inbound(
                topic=message.topic.value, payload=bytes(message.payload),  # type: ignore[arg-type]
                mid=message.mid, qos=message.qos, connection=self.connection,
            )  # fmt: skip
            self.connection.unacked[inbound.mid] = inbound
            self.received.append(inbound)

    def ack_all(self) -> None:
        for message in list(self.connection.unacked.values()):
            self.connection.ack(message)

    async def __aexit__(self, *exc: object) -> None:
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                await self.reader
        self.connection.lost.set()
        with contextlib.suppress(aiomqtt.MqttError):
            await self.connection.client.__aexit__(None, None, None)


@pytest.fixture
def acl_broker() -> Iterator[Broker]:
    """A mosquitto that lets `USER` write `allowed/#` only."""
    executable = find_mosquitto()
    if executable is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    broker = Broker(
        executable, users={USER: PASSWORD}, acl=f"user {USER}\ntopic readwrite allowed/#\n"
    )
    broker.start()
    yield broker
    broker.close()


class TestPinnedReleases:
    def test_the_installed_releases_are_the_ones_the_fence_was_checked_on(self):
        installed = {name: importlib.metadata.version(name) for name in CHECKED_WITH}

        assert installed == CHECKED_WITH

    def test_pyproject_pins_the_releases_the_fence_was_checked_on(self):
        dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
            "dependencies"
        ]
        pins = dict(d.split("==", 1) for d in dependencies if "==" in d)

        assert {name: pins.get(name) for name in CHECKED_WITH} == CHECKED_WITH

    async def test_aiomqtt_holds_a_paho_client_carrying_its_own_callbacks_to_wrap(self):
        """`hook()` wraps the callbacks aiomqtt set on paho, and fails `_disconnected`."""
        client = aiomqtt.Client("127.0.0.1", protocol=ProtocolVersion.V5)
        paho = client._client

        assert isinstance(paho, PahoClient)
        for name in ("on_connect", "on_socket_open", "on_message", "on_publish"):
            assert getattr(getattr(paho, name), "__self__", None) is client, name
        assert isinstance(client._disconnected, asyncio.Future)


class TestAcknowledgement:
    async def test_messages_waiting_at_connect_stay_unacknowledged_until_ack(self, broker):
        """Manual acks are on before CONNECT: what the broker sends right behind CONNACK
        comes back on the next connection until it is acknowledged, and not after."""
        client_id, topic = unique("fence"), unique("t")
        async with Session(broker, client_id, topic=topic):
            pass
        await publish(broker, topic, b"a", b"b")

        async with Session(broker, client_id) as first:
            await eventually(lambda: len(first.received) == 2)
        async with Session(broker, client_id) as again:
            await eventually(lambda: len(again.received) == 2)
            again.ack_all()
        async with Session(broker, client_id) as after:
            await publish(broker, topic, b"marker")
            await eventually(lambda: len(after.received) == 1)

        assert [m.payload for m in again.received] == [b"a", b"b"]
        assert [m.payload for m in after.received] == [b"marker"]

    async def test_session_present_comes_from_connack(self, broker):
        client_id = unique("fence")
        async with Session(broker, client_id) as new:
            pass
        async with Session(broker, client_id) as resumed:
            pass

        assert (new.connection.session_present, resumed.connection.session_present) == (
            False,
            True,
        )


class TestFlowControl:
    async def test_reading_stops_at_the_limit_while_the_rest_waits_in_the_socket(self, broker):
        """Removing the loop's reader of the paho socket stops aiomqtt reading it."""
        client_id, topic = unique("fence"), unique("t")
        async with Session(broker, client_id, topic=topic, limit=4) as session:
            await publish(broker, topic, *[b"m%d" % n for n in range(12)])
            await eventually(lambda: len(session.received) == 4)
            paho_socket = session.connection.client._client.socket()
            readable, _, _ = await asyncio.to_thread(select.select, [paho_socket], [], [], WAIT)
            await asyncio.sleep(0.2)  # any reader left in place would have run by now

            assert readable, "the broker's next messages should be waiting unread"
            assert (len(session.received), session.connection.paused) == (4, True)

    async def test_reading_resumes_at_half_the_limit_and_everything_arrives_in_order(self, broker):
        client_id, topic = unique("fence"), unique("t")
        payloads = [b"m%d" % n for n in range(12)]
        async with Session(broker, client_id, topic=topic, limit=4) as session:
            await publish(broker, topic, *payloads)
            await eventually(lambda: len(session.received) == 4)
            session.connection.ack(session.received[0])
            still_paused = session.connection.paused  # 3 outstanding, above half
            session.connection.ack(session.received[1])
            await eventually(lambda: len(session.received) == 6)  # 4 outstanding again
            async with asyncio.timeout(WAIT):
                while len(session.received) < len(payloads):
                    session.ack_all()
                    await asyncio.sleep(0.01)

        assert still_paused
        assert [m.payload for m in session.received] == payloads

    async def test_a_connection_lost_under_our_reader_ends_the_messages(self, fresh_broker):
        """After a pause and resume our reader, not aiomqtt's, reads the socket; a broker
        gone meanwhile still ends `client.messages` with MqttError."""
        client_id, topic = unique("fence"), unique("t")
        async with Session(fresh_broker, client_id, topic=topic, limit=2) as session:
            await publish(fresh_broker, topic, b"a", b"b", b"c")
            await eventually(lambda: len(session.received) == 2)
            session.ack_all()
            await eventually(lambda: len(session.received) == 3)
            fresh_broker.kill()

            assert session.reader is not None
            with pytest.raises(aiomqtt.MqttError):
                async with asyncio.timeout(WAIT):
                    await session.reader


class TestPubackReasonCodes:
    async def test_a_publish_the_broker_refuses_fails_with_its_reason(self, acl_broker):
        async with Session(
            acl_broker, unique("fence"), username=USER, password=PASSWORD
        ) as session:
            async with asyncio.timeout(WAIT):
                await session.connection.publish("allowed/x", b"1", qos=1, retain=False)
                with pytest.raises(RefusedError) as refused:
                    await session.connection.publish("denied/x", b"1", qos=1, retain=False)

        assert (refused.value.topic, refused.value.reason) == ("denied/x", "Not authorized")


# -- nothing else reaches into a library ---------------------------------------------------


def _private_reaches(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """`x._name` on anything but self or cls, `getattr(x, "_name")`, `from lib import _n`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            base = node.value
            if not (isinstance(base, ast.Name) and base.id in ("self", "cls")):
                yield node.lineno, node.attr
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.args[1] if len(node.args) > 1 else None
            if (
                node.func.id in ("getattr", "setattr", "hasattr", "delattr")
                and isinstance(name, ast.Constant)
                and isinstance(name.value, str)
                and _private(name.value)
            ):
                yield node.lineno, name.value
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and not (node.module or "").startswith(("gateway", "handlers"))
        ):
            yield from ((node.lineno, a.name) for a in node.names if _private(a.name))


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _sources() -> Iterator[Path]:
    for package in ("gateway", "handlers"):
        yield from sorted((ROOT / package).rglob("*.py"))


def test_no_private_attribute_is_reached_outside_the_fence():
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in _sources()
        if path != FENCE
        for line, name in _private_reaches(ast.parse(path.read_text()))
    ]

    assert offenders == []


def test_the_fence_reaches_only_the_internals_it_declares():
    reached = {name for _, name in _private_reaches(ast.parse(FENCE.read_text()))}

    assert reached == FENCED


def test_the_check_for_private_reaches_finds_each_form():
    source = (
        "client._client.ack(1)\n"
        "getattr(sock, '_sock')\n"
        "from aiomqtt.client import _internal\n"
        "self._mine = other.__class__\n"
    )
    found = sorted(_private_reaches(ast.parse(source)))

    assert found == [(1, "_client"), (2, "_sock"), (3, "_internal")]
