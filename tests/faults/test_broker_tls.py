"""The daemon on a TLS listener with a login, and an ACL that refuses its status topic.

mosquitto answers each status publish with PUBACK 0x87 while the ACL refuses it. Every
status must stay in the outbox and be published once the ACL allows it (SIGHUP reloads
it), and `/healthz` must say 503 / degraded meanwhile.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.smpp.sim import SimConfig, SmscSimulator
from tests.support.acl import ACL_ALLOWING, ACL_REFUSING, PASSWORD, USER
from tests.support.broker import Broker, Certificates, find_mosquitto, make_certificates
from tests.support.burst import Burst
from tests.support.daemon import http_get

COUNT = 300


@pytest.fixture
def certificates(tmp_path: Path) -> Certificates:
    return make_certificates(tmp_path / "certs")


@pytest.fixture
def tls_broker(certificates: Certificates) -> Iterator[Broker]:
    executable = find_mosquitto()
    if executable is None:
        pytest.fail("mosquitto is not installed: apt-get install mosquitto", pytrace=False)
    broker = Broker(executable, certificates=certificates, users={USER: PASSWORD}, acl=ACL_REFUSING)
    broker.start()
    yield broker
    broker.close()


async def test_statuses_refused_by_the_acl_are_all_published_once_it_allows_them(
    tls_broker, certificates, tmp_path
):
    (tmp_path / "mqtt-password").write_text(PASSWORD + "\n")
    mqtt = (
        f"  username: {USER}\n"
        "  password_file: mqtt-password\n"
        f"  tls: {{ca_file: {certificates.ca}}}\n"
    )
    async with SmscSimulator(SimConfig(receipt_delay=0.01)) as smsc:
        burst = Burst(
            tls_broker.port, smsc, tmp_path, COUNT,
            daemon_broker_port=tls_broker.tls_port, mqtt_extra=mqtt,
        )  # fmt: skip
        async with burst:
            await burst.publish()
            # Every job is delivered per the store, and every status waits in the outbox.
            await burst.all_held_unpublished(timeout=120)
            status, body = await http_get(burst.admin_port, "/healthz")
            health = json.loads(body)
            _, metrics = await http_get(burst.admin_port, "/metrics")
            assert burst.watch.events == []
            assert (status, health["status"], health["broker"]) == (503, "degraded", "degraded")
            assert health["refused_publishes"] > 0
            assert 'motcua_mqtt_refused{kind="publish"}' in metrics

            tls_broker.set_acl(ACL_ALLOWING)
            tls_broker.reload()
            delivered = await burst.all_delivered(timeout=120)
            await burst.all_delivered_in_store(timeout=60)
            await burst.until_healthy(timeout=30)

    burst.check(delivered)
    # Each status exactly once: a refused publish is not a publish.
    for n in range(COUNT):
        assert sorted(burst.watch.states(f"job-{n}")) == ["delivered", "queued", "submitted"]
