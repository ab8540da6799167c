"""/healthz and /metrics with several SMSC links: each link and each of its sessions."""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from gateway.ops.admin import Admin, Observed
from gateway.outbound.routing import Leg, Router
from gateway.settings.links import EVERYTHING, Route
from gateway.smpp.account import Account
from gateway.smpp.session import Submit
from gateway.smpp.sim import SimConfig, SmscSimulator
from gateway.store.store import Store
from tests.support.daemon import http_get
from tests.support.links import VIETTEL, VINAPHONE
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


@contextlib.asynccontextmanager
async def links_admin(
    tmp_path,
    up_routes: tuple[Route, ...],
    down_routes: tuple[Route, ...],
    down_shortcodes: tuple[str, ...] = ("8083",),
) -> AsyncIterator[tuple[Admin, Account, Account]]:
    """`viettel` bound with two sessions; `vnpt` pointed at a port nobody listens on;
    each taking the routes given, MOs to 8083 coming in by both."""
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
        router = Router(
            [
                Leg(up, up_routes, shortcodes=("8083",)),
                Leg(down, down_routes, shortcodes=down_shortcodes),
            ]
        )
        observed = Observed(
            [up, down], _Connected(), store.outbox, receipts=Counter(), mo=Counter(), router=router
        )
        async with Admin(observed, "127.0.0.1", 0) as admin:
            yield admin, up, down


@pytest.fixture
async def two_links(tmp_path) -> AsyncIterator[tuple[Admin, Account, Account]]:
    """The down link takes Vinaphone's ranges; the bound one every number."""
    async with links_admin(tmp_path, EVERYTHING, VINAPHONE) as found:
        yield found


async def test_healthz_lists_each_link_and_its_sessions(two_links):
    admin, _, _ = two_links

    _, body = await http_get(admin.port, "/healthz")

    links = json.loads(body)["links"]
    assert links["viettel"]["status"] == "bound"
    assert [s["bound"] for s in links["viettel"]["sessions"]] == [True, True]
    assert links["vnpt"]["status"] == "down"
    assert [s["bound"] for s in links["vnpt"]["sessions"]] == [False]


async def test_a_link_down_whose_routes_a_bound_link_serves_is_degraded_with_200(two_links):
    """Vinaphone's numbers go by the bound default link meanwhile: the gateway does its
    job, and says a link is down."""
    admin, _, _ = two_links

    status, body = await http_get(admin.port, "/healthz")

    health = json.loads(body)
    assert (status, health["status"], health["smsc"], health["unserved"]) == (
        200,
        "degraded",
        "bound",
        [],
    )
    assert health["links"]["vnpt"]["status"] == "down"


async def test_a_route_no_bound_link_serves_makes_healthz_503(tmp_path):
    """The down link is the only one taking every number but Viettel's: those wait."""
    async with links_admin(tmp_path, VIETTEL, EVERYTHING) as (admin, _, _):
        status, body = await http_get(admin.port, "/healthz")

    health = json.loads(body)
    assert (status, health["status"], health["unserved"]) == (503, "degraded", ["vnpt: default"])


async def test_a_shortcode_only_a_down_link_receives_makes_healthz_503(tmp_path):
    """MOs to 8084 come in only by the down link: citizens writing to it get nothing."""
    async with links_admin(tmp_path, EVERYTHING, VINAPHONE, ("8083", "8084")) as (admin, _, _):
        status, body = await http_get(admin.port, "/healthz")

    assert (status, json.loads(body)["unserved"]) == (503, ["MO 8084"])


async def test_metrics_carry_a_link_label(two_links):
    admin, _, _ = two_links

    _, text = await http_get(admin.port, "/metrics")

    assert 'motcua_link_bound{link="viettel"} 1.0' in text
    assert 'motcua_link_bound{link="vnpt"} 0.0' in text
    assert 'motcua_link_sessions_bound{link="viettel"} 2.0' in text
    assert 'motcua_link_submits_total{link="viettel",result="ok"} 1.0' in text
    assert 'motcua_link_submits_total{link="vnpt",result="ok"} 0.0' in text
    assert 'motcua_submits_total{result="ok"} 1.0' in text  # the sum, as before
