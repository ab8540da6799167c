"""/healthz and /metrics with several SMSC links: each link and each of its sessions."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from gateway.ops.admin import Admin, Observed
from gateway.smpp.account import Account
from gateway.smpp.session import Submit
from gateway.smpp.sim import SimConfig, SmscSimulator
from gateway.store.store import Store
from tests.support.daemon import http_get
from tests.support.session import session_config
from tests.support.wait import eventually


class _Connected:
    """The MQTT side, connected and refusing nothing: only the SMSC links vary here."""

    connected = True
    refused_publishes = 0
    refused_subscriptions: tuple[str, ...] = ()
    publish_refusals = 0
    subscription_refusals = 0


async def _ignore(_item: object, _link: str) -> None:
    return None


@pytest.fixture
async def two_links(tmp_path) -> AsyncIterator[tuple[Admin, Account, Account]]:
    """`viettel` bound with two sessions; `vnpt` pointed at a port nobody listens on."""
    closed = SmscSimulator(SimConfig())
    await closed.start()
    dead_port = closed.port
    await closed.stop()
    async with (
        SmscSimulator(SimConfig(receipt_delay=0.01)) as sim,
        Store.open(tmp_path / "g.db") as store,
        Account("viettel", session_config(sim.port), _ignore, binds=2) as up,
        Account("vnpt", session_config(dead_port), _ignore) as down,
    ):
        await eventually(lambda: all(s.bound for s in up.sessions))
        await up.submit(Submit(source="MotcuaSMS", destination="84981234567", short_message=b"x"))
        observed = Observed(
            [up, down], _Connected(), store.outbox, receipts=Counter(), mo=Counter()
        )
        async with Admin(observed, "127.0.0.1", 0) as admin:
            yield admin, up, down


async def test_healthz_lists_each_link_and_its_sessions(two_links):
    admin, _, _ = two_links

    _, body = await http_get(admin.port, "/healthz")

    links = json.loads(body)["links"]
    assert links["viettel"]["status"] == "bound"
    assert [s["bound"] for s in links["viettel"]["sessions"]] == [True, True]
    assert links["vnpt"]["status"] == "down"
    assert [s["bound"] for s in links["vnpt"]["sessions"]] == [False]


async def test_a_link_down_makes_the_gateway_degraded_not_unavailable(two_links):
    admin, _, _ = two_links

    status, body = await http_get(admin.port, "/healthz")

    assert (status, json.loads(body)["status"], json.loads(body)["smsc"]) == (
        503,
        "degraded",
        "bound",
    )


async def test_metrics_carry_a_link_label(two_links):
    admin, _, _ = two_links

    _, text = await http_get(admin.port, "/metrics")

    assert 'motcua_link_bound{link="viettel"} 1.0' in text
    assert 'motcua_link_bound{link="vnpt"} 0.0' in text
    assert 'motcua_link_sessions_bound{link="viettel"} 2.0' in text
    assert 'motcua_link_submits_total{link="viettel",result="ok"} 1.0' in text
    assert 'motcua_link_submits_total{link="vnpt",result="ok"} 0.0' in text
    assert 'motcua_submits_total{result="ok"} 1.0' in text  # the sum, as before
