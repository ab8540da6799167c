"""The MQTT link as production runs it: TLS, a login, and a broker whose ACL refuses.

Every test runs its own mosquitto with a TLS listener (certificates made here with the
openssl command line), a password file made with `mosquitto_passwd -b` and an ACL file,
or the dynamic-security plugin where a refused *subscription* is needed (mosquitto 2.0's
acl_file grants every subscription and filters on delivery).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest
import structlog.testing
from aiomqtt import ProtocolVersion

from gateway.mqtt.link import MqttLink, MqttSettings, TlsSettings
from tests.support.broker import Broker, Certificates, find_mosquitto, make_certificates
from tests.support.wait import eventually

WAIT = 10.0
USER, PASSWORD = "motcua-sms", "s3cret-mqtt"
# Anonymous clients (the agencies' side in these tests) may do anything; the gateway may
# read work and, with STATUS_ALLOWED, write statuses.
ACL_REFUSING = f"topic readwrite #\nuser {USER}\ntopic read motcua/+/sms\n"
ACL_ALLOWING = ACL_REFUSING + "topic write motcua/+/status\n"


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certs"))


def started(**options: object) -> Iterator[Broker]:
    executable = find_mosquitto()
    if executable is None:
        pytest.fail("mosquitto is not installed: apt-get install mosquitto", pytrace=False)
    broker = Broker(executable, **options)  # type: ignore[arg-type]
    broker.start()
    try:
        yield broker
    finally:
        broker.close()


@pytest.fixture
def tls_broker(certificates: Certificates) -> Iterator[Broker]:
    yield from started(certificates=certificates, users={USER: PASSWORD}, acl=ACL_REFUSING)


def tls_settings(broker: Broker, certificates: Certificates, **over: object) -> MqttSettings:
    assert broker.tls_port is not None
    fields: dict[str, object] = {
        "host": broker.host,
        "port": broker.tls_port,
        "client_id": f"gw-{uuid.uuid4().hex[:8]}",
        "username": USER,
        "password": PASSWORD,
        "keepalive": 5,
        "session_expiry": 300,
        "reconnect_min": 0.05,
        "reconnect_max": 0.3,
        "tls": TlsSettings(ca_file=str(certificates.ca)),
        **over,
    }
    return MqttSettings(**fields)  # type: ignore[arg-type]


async def agency_publish(broker: Broker, topic: str, payload: bytes) -> None:
    async with aiomqtt.Client(broker.host, port=broker.port) as client:
        await client.publish(topic, payload, qos=1)


class TestTls:
    async def test_link_over_tls_with_a_login_receives_work(self, tls_broker, certificates):
        async with MqttLink(tls_settings(tls_broker, certificates), ["motcua/+/sms"]) as link:
            await link.wait_connected(WAIT)
            await agency_publish(tls_broker, "motcua/SCT/sms", b'{"id": "1"}')
            async with asyncio.timeout(WAIT):
                message = await anext(link.messages())

        assert (message.topic, message.payload) == ("motcua/SCT/sms", b'{"id": "1"}')

    @pytest.mark.slow
    async def test_wrong_password_never_connects(self, tls_broker, certificates):
        settings = tls_settings(tls_broker, certificates, password="wrong")
        async with MqttLink(settings, ["motcua/+/sms"]) as link:
            with pytest.raises(TimeoutError):
                await link.wait_connected(1.0)

    @pytest.mark.slow
    async def test_broker_certificate_from_another_ca_is_refused(
        self, tls_broker, certificates, tmp_path
    ):
        other = make_certificates(tmp_path / "other")
        settings = tls_settings(tls_broker, certificates, tls=TlsSettings(ca_file=str(other.ca)))
        async with MqttLink(settings, ["motcua/+/sms"]) as link:
            with pytest.raises(TimeoutError):
                await link.wait_connected(1.0)

    async def test_client_certificate_is_presented_when_the_broker_requires_one(self, certificates):
        for broker in started(
            certificates=certificates, require_certificate=True, acl="topic readwrite #\n"
        ):
            tls = TlsSettings(
                ca_file=str(certificates.ca),
                cert_file=str(certificates.client_cert),
                key_file=str(certificates.client_key),
            )
            settings = tls_settings(broker, certificates, tls=tls, username=None, password=None)
            async with MqttLink(settings, ["motcua/+/sms"]) as link:
                await link.wait_connected(WAIT)
                assert link.connected


class TestRefusedPublish:
    async def test_refused_publish_is_retried_until_the_acl_allows_it(
        self, tls_broker, certificates
    ):
        """mosquitto 2.0 answers an ACL-denied QoS 1 publish under MQTT 5 with PUBACK
        reason 0x87; the publish is not done until the broker takes it (before: it
        returned at once and the status row was deleted)."""
        received: list[bytes] = []

        async def watch(ready: asyncio.Event) -> None:
            async with aiomqtt.Client(tls_broker.host, port=tls_broker.port) as client:
                await client.subscribe("motcua/+/status", qos=1)
                ready.set()
                async for message in client.messages:
                    received.append(bytes(message.payload))  # type: ignore[arg-type]

        ready = asyncio.Event()
        watcher = asyncio.create_task(watch(ready))
        await asyncio.wait_for(ready.wait(), WAIT)
        async with MqttLink(tls_settings(tls_broker, certificates), []) as link:
            await link.wait_connected(WAIT)
            publish = asyncio.create_task(link.publish("motcua/SCT/status", b'{"id": "s"}'))
            await eventually(lambda: link.publish_refusals >= 2, timeout=WAIT)
            assert (publish.done(), link.refused_publishes, link.degraded) == (False, 1, True)

            tls_broker.set_acl(ACL_ALLOWING)
            tls_broker.reload()
            await asyncio.wait_for(publish, WAIT)
            await eventually(lambda: bool(received), timeout=WAIT)
            assert (link.refused_publishes, link.degraded) == (0, False)
        watcher.cancel()
        assert received == [b'{"id": "s"}']

    async def test_statuses_held_by_a_refusal_go_out_in_order_once_allowed(
        self, tls_broker, certificates
    ):
        """The refused topic is one stream: only its oldest is tried while refused, so
        none of the rest gets ahead of it when the broker starts accepting."""
        received, watcher = await _watching(tls_broker)
        payloads = [f"{n:03d}".encode() for n in range(25)]
        async with MqttLink(tls_settings(tls_broker, certificates), []) as link:
            await link.wait_connected(WAIT)
            publish = asyncio.create_task(link.publish_all("motcua/SCT/status", payloads))
            await eventually(lambda: link.publish_refusals >= 3, timeout=WAIT)
            tls_broker.set_acl(ACL_ALLOWING)
            tls_broker.reload()
            await asyncio.wait_for(publish, 4 * WAIT)
            await eventually(lambda: len(received) >= len(payloads), timeout=WAIT)
        watcher.cancel()
        assert received == payloads

    async def test_a_refusal_episode_is_logged_once_when_it_starts_and_once_when_it_ends(
        self, tls_broker, certificates
    ):
        """(before: one error line per attempt of each held publish, 153 for 25)"""
        payloads = [f"{n:03d}".encode() for n in range(25)]
        with structlog.testing.capture_logs() as logs:
            async with MqttLink(tls_settings(tls_broker, certificates), []) as link:
                await link.wait_connected(WAIT)
                publish = asyncio.create_task(link.publish_all("motcua/SCT/status", payloads))
                await eventually(lambda: link.publish_refusals >= 3, timeout=WAIT)
                tls_broker.set_acl(ACL_ALLOWING)
                tls_broker.reload()
                await asyncio.wait_for(publish, 4 * WAIT)
        events = [(e["event"], e["log_level"]) for e in logs if "publish" in e["event"]]
        assert events == [("mqtt_publish_refused", "error"), ("mqtt_publish_allowed", "info")]


async def _watching(broker: Broker) -> tuple[list[bytes], asyncio.Task[None]]:
    """Everything published to the status topics, as an agency's software sees it."""
    received: list[bytes] = []
    ready = asyncio.Event()

    async def watch() -> None:
        async with aiomqtt.Client(broker.host, port=broker.port) as client:
            await client.subscribe("motcua/+/status", qos=1)
            ready.set()
            async for message in client.messages:
                received.append(bytes(message.payload))  # type: ignore[arg-type]

    watcher = asyncio.create_task(watch())
    await asyncio.wait_for(ready.wait(), WAIT)
    return received, watcher


DYNSEC_ANON_ROLE = "anon-role"
DYNSEC_ADMIN, DYNSEC_ADMIN_PASSWORD = "admin", "admin-pw"


def _acl(acltype: str, topic: str) -> dict[str, object]:
    return {"acltype": acltype, "topic": topic, "priority": 0, "allow": True}


def dynsec(*allowed_subscriptions: str) -> dict[str, object]:
    """Anonymous clients may publish anything and subscribe only to what is listed; an
    admin client may change that through the plugin's control topic."""
    acls = [_acl("subscribePattern", t) for t in allowed_subscriptions]
    salt = os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha512", DYNSEC_ADMIN_PASSWORD.encode(), salt, 101)
    control = "$CONTROL/dynamic-security/#"
    admin_acls = [
        _acl(kind, control)
        for kind in ("publishClientSend", "publishClientReceive", "subscribePattern")
    ]
    return {
        "defaultACLAccess": {
            "publishClientSend": True,
            "publishClientReceive": True,
            "subscribe": False,
            "unsubscribe": True,
        },
        "clients": [
            {
                "username": DYNSEC_ADMIN,
                "password": base64.b64encode(digest).decode(),
                "salt": base64.b64encode(salt).decode(),
                "iterations": 101,
                "roles": [{"rolename": "admin"}],
            }
        ],
        "groups": [{"groupname": "anon", "roles": [{"rolename": DYNSEC_ANON_ROLE}]}],
        "roles": [
            {"rolename": DYNSEC_ANON_ROLE, "acls": acls},
            {"rolename": "admin", "acls": admin_acls},
        ],
        "anonymousGroup": "anon",
    }


async def allow_every_subscription(broker: Broker) -> None:
    """Let every client subscribe to anything, on the running broker (dynsec control).
    A change of the default, unlike one of a role, does not disconnect anyone."""
    command = {"command": "setDefaultACLAccess",
               "acls": [{"acltype": "subscribe", "allow": True}]}  # fmt: skip
    async with aiomqtt.Client(
        broker.host, port=broker.port, username=DYNSEC_ADMIN,
        password=DYNSEC_ADMIN_PASSWORD, protocol=ProtocolVersion.V5,
    ) as client:  # fmt: skip
        await client.subscribe("$CONTROL/dynamic-security/v1/response", qos=1)
        await client.publish(
            "$CONTROL/dynamic-security/v1", json.dumps({"commands": [command]}), qos=1
        )
        async with asyncio.timeout(WAIT):
            reply = await anext(client.messages)
    assert "error" not in json.loads(reply.payload)["responses"][0]  # type: ignore[arg-type]


def plain_settings(broker: Broker) -> MqttSettings:
    return MqttSettings(
        host=broker.host,
        port=broker.port,
        client_id=f"gw-{uuid.uuid4().hex[:8]}",
        reconnect_min=0.05,
        reconnect_max=0.3,
    )


class TestRefusedSubscription:
    async def test_subscription_granted_later_is_taken_on_the_same_connection(self):
        """The refused topic is asked for again with back-off: an ACL fixed on the broker
        takes effect without a reconnect."""
        for broker in started(dynsec=dynsec("motcua/+/sms")):
            topics = ["motcua/+/sms", "motcua/+/dossier"]
            async with MqttLink(plain_settings(broker), topics) as link:
                await link.wait_connected(WAIT)
                connection = link._connection
                assert link.refused_subscriptions == ("motcua/+/dossier",)

                await allow_every_subscription(broker)
                await eventually(lambda: not link.degraded, timeout=WAIT)
                assert link._connection is connection
                await agency_publish(broker, "motcua/SCT/dossier", b"{}")
                async with asyncio.timeout(WAIT):
                    message = await anext(link.messages())
            assert message.topic == "motcua/SCT/dossier"

    async def test_refused_subscription_degrades_the_link_until_granted(self, tmp_path: Path):
        """SUBACK 0x87 for one topic: the link says so (before: only a log line) until a
        connection on which the broker grants it."""
        for broker in started(dynsec=dynsec("motcua/+/sms")):
            settings = MqttSettings(
                host=broker.host,
                port=broker.port,
                client_id=f"gw-{uuid.uuid4().hex[:8]}",
                reconnect_min=0.05,
                reconnect_max=0.3,
            )
            topics = ["motcua/+/sms", "motcua/+/dossier"]
            async with MqttLink(settings, topics) as link:
                await link.wait_connected(WAIT)
                assert (link.refused_subscriptions, link.degraded) == (
                    ("motcua/+/dossier",),
                    True,
                )
                refusals = link.subscription_refusals

                broker.stop()
                broker.set_dynsec(dynsec(*topics))
                broker.start()
                await eventually(lambda: link.connected and not link.degraded, timeout=WAIT)
                await agency_publish(broker, "motcua/SCT/dossier", b"{}")
                async with asyncio.timeout(WAIT):
                    message = await anext(link.messages())
            assert refusals >= 1
            assert message.topic == "motcua/SCT/dossier"
