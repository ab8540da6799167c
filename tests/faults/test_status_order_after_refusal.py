"""Statuses held while the broker refuses the status topic go out in the order they
happened once it allows them: an agency that reads the last status of a message as its
state must not see a delivered notice end `queued`. (`at` has one-second resolution, so
the agency cannot put them back in order itself.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.smpp.sim import SimConfig, SmscSimulator
from tests.support.acl import ACL_ALLOWING, ACL_REFUSING, PASSWORD, USER
from tests.support.broker import Broker, find_mosquitto
from tests.support.burst import Burst

COUNT = 100


@pytest.fixture
def acl_broker() -> Iterator[Broker]:
    executable = find_mosquitto()
    if executable is None:
        pytest.fail("mosquitto is not installed: apt-get install mosquitto", pytrace=False)
    broker = Broker(executable, users={USER: PASSWORD}, acl=ACL_REFUSING)
    broker.start()
    yield broker
    broker.close()


async def test_statuses_held_by_a_refusing_acl_are_published_in_order(acl_broker, tmp_path):
    (tmp_path / "mqtt-password").write_text(PASSWORD + "\n")
    mqtt = f"  username: {USER}\n  password_file: mqtt-password\n"
    async with SmscSimulator(SimConfig(receipt_delay=0.01)) as smsc:
        burst = Burst(acl_broker.port, smsc, tmp_path, COUNT, mqtt_extra=mqtt)
        async with burst:
            await burst.publish()
            await burst.all_held_unpublished(timeout=60)
            acl_broker.set_acl(ACL_ALLOWING)
            acl_broker.reload()
            await burst.all_delivered(timeout=120)
            await burst.all_delivered_in_store(timeout=60)

    out_of_order = {
        f"job-{n}": burst.watch.states(f"job-{n}")
        for n in range(COUNT)
        if burst.watch.states(f"job-{n}") != ["queued", "submitted", "delivered"]
    }
    assert out_of_order == {}, f"{len(out_of_order)} of {COUNT}: {list(out_of_order.items())[:3]}"
