"""Routing between SMSC links over real TCP: the bundled simulator and node-smpp at once.

Each test runs the store, tracker, dispatcher, router and sender as the daemon wires them
(tests/support/links.py); what each SMSC received is read from its own records.
"""

from __future__ import annotations

from gateway.domain.message import Priority, Queued
from gateway.outbound.routing import Leg, Router
from gateway.settings.links import Route
from gateway.smpp.account import Account
from gateway.smpp.codes import Status
from gateway.smpp.sim import Rule, SimConfig, SmscSimulator
from tests.support.links import (
    MOBIFONE_NUMBER,
    VIETTEL,
    VIETTEL_NUMBER,
    VINAPHONE,
    VINAPHONE_NUMBER,
    Spec,
    running_links,
)
from tests.support.session import ignore, session_config
from tests.support.wait import eventually


def international(national: str) -> str:
    return "84" + national[1:]


def node_destinations(node) -> list[str]:
    return [e["destination_addr"] for e in node.events("submit_sm")]


async def all_in(rig, state: str, count: int, timeout: float = 15) -> None:
    async def done() -> bool:
        rows = await rig.rows()
        return len(rows) == count and all(s == state for s, _ in rows.values())

    await eventually(done, timeout)


async def test_each_number_goes_by_the_link_of_its_carriers_range(
    tmp_path, store_location, node_smsc
):
    async with SmscSimulator(SimConfig(receipt_delay=0.01)) as sim:
        specs = [
            Spec("viettel", sim.port, VIETTEL),
            Spec("vnpt", node_smsc.port, (*VINAPHONE, Route(default=True))),
        ]
        async with running_links(store_location, specs) as rig:
            await rig.queue("to-viettel", to=VIETTEL_NUMBER)
            await rig.queue("to-vinaphone", to=VINAPHONE_NUMBER)
            await rig.queue("to-mobifone", to=MOBIFONE_NUMBER)

            await all_in(rig, "delivered", 3)
            rows = await rig.rows()

    assert [r.destination for r in sim.records] == [international(VIETTEL_NUMBER)]
    assert sorted(node_destinations(node_smsc)) == sorted(
        [international(VINAPHONE_NUMBER), international(MOBIFONE_NUMBER)]
    )
    assert rows == {
        "to-viettel": ("delivered", "viettel"),
        "to-vinaphone": ("delivered", "vnpt"),
        "to-mobifone": ("delivered", "vnpt"),
    }


async def test_a_prefix_route_takes_the_numbers_it_starts_with(tmp_path, store_location, node_smsc):
    async with SmscSimulator(SimConfig(receipt_delay=0.01)) as sim:
        specs = [
            Spec("mobifone", node_smsc.port, (Route(prefix="8490"),)),
            Spec("aggregator", sim.port),
        ]
        async with running_links(store_location, specs) as rig:
            await rig.queue("a", to=MOBIFONE_NUMBER)
            await rig.queue("b", to=VIETTEL_NUMBER)
            await all_in(rig, "delivered", 2)

    assert node_destinations(node_smsc) == [international(MOBIFONE_NUMBER)]
    assert [r.destination for r in sim.records] == [international(VIETTEL_NUMBER)]


async def test_the_status_names_the_link_that_sent_the_message(tmp_path, store_location, node_smsc):
    async with SmscSimulator(SimConfig(receipt_delay=0.01)) as sim:
        specs = [Spec("viettel", sim.port, VIETTEL), Spec("vnpt", node_smsc.port)]
        async with running_links(store_location, specs) as rig:
            await rig.queue("job", to=VINAPHONE_NUMBER)
            await all_in(rig, "delivered", 1)
            statuses = await rig.statuses()

    assert [(s["state"], s.get("link")) for s in statuses] == [
        ("queued", None),
        ("submitted", "vnpt"),
        ("delivered", "vnpt"),
    ]


def test_an_agency_route_takes_that_agencys_messages_before_the_carrier_routes():
    def leg(name: str, *routes: Route) -> Leg:
        return Leg(Account(name, session_config(1), _ignore), routes)

    router = Router(
        [
            leg("stp-account", Route(agency="STP")),
            leg("viettel", *VIETTEL),
            leg("rest", Route(default=True)),
        ]
    )

    def route(agency: str, phone: str) -> list[str]:
        from gateway.domain.message import Queued

        m = Queued(1, agency, "r", "sms", phone, "MotcuaSMS", "t", 1, 0, 0, 0.0, None, None,
                   frozenset())  # fmt: skip
        return [leg.id for leg in router.legs_for(m)]

    assert route("STP", international(VIETTEL_NUMBER)) == ["stp-account", "viettel", "rest"]
    assert route("SCT", international(VIETTEL_NUMBER)) == ["viettel", "rest"]
    assert route("SCT", international(VINAPHONE_NUMBER)) == ["rest"]


def three_links() -> Router:
    def leg(name: str, *routes: Route) -> Leg:
        return Leg(Account(name, session_config(1), _ignore), routes)

    return Router([leg("a", *VIETTEL), leg("b", *VIETTEL), leg("c", Route(default=True))])


def queued(
    link: str | None, *, priority: int = Priority.NOTICE, done: frozenset[int] = frozenset()
) -> Queued:
    return Queued(1, "SCT", "r", "sms", international(VIETTEL_NUMBER), "MotcuaSMS", "t",
                  priority, 1, 0, 0.0, None, None, done, link=link)  # fmt: skip


def test_a_retry_after_no_acceptance_on_a_link_tries_the_next_matching_links_first():
    router = three_links()

    assert [leg.id for leg in router.legs_for(queued("a"))] == ["b", "c", "a"]
    assert [leg.id for leg in router.legs_for(queued("c"))] == ["a", "b", "c"]


def test_an_mo_reply_and_the_rest_of_a_long_message_stay_on_their_link():
    router = three_links()

    assert [leg.id for leg in router.legs_for(queued("b", priority=Priority.MO_REPLY))] == ["b"]
    assert [leg.id for leg in router.legs_for(queued("b", done=frozenset({1})))] == ["b"]


async def _ignore(_item: object, _link: str) -> None:
    await ignore(_item)


async def test_a_link_that_is_down_hands_its_messages_to_the_next(
    tmp_path, store_location, node_smsc
):
    sim = SmscSimulator(SimConfig(receipt_delay=0.01))
    await sim.start()
    port = sim.port
    await sim.stop()  # nothing listens there now
    specs = [Spec("viettel", port, (*VIETTEL, Route(default=True))), Spec("vnpt", node_smsc.port)]
    async with running_links(store_location, specs) as rig:
        for n in range(5):
            await rig.queue(f"job-{n}", to=VIETTEL_NUMBER)
        await all_in(rig, "delivered", 5)
        rows = await rig.rows()

    assert {link for _, link in rows.values()} == {"vnpt"}
    assert len(node_destinations(node_smsc)) == 5


async def test_a_link_refusing_binds_hands_its_messages_to_the_next_at_once(
    tmp_path, store_location, node_smsc
):
    async with SmscSimulator(SimConfig(receipt_delay=0.01)) as sim:
        sim.refuse_binds = Status.ESME_RBINDFAIL
        specs = [
            Spec("viettel", sim.port, VIETTEL, failover_after=30.0),
            Spec("vnpt", node_smsc.port),
        ]
        async with running_links(store_location, specs) as rig:
            await eventually(lambda: rig.accounts["viettel"].refusing)
            await rig.queue("job", to=VIETTEL_NUMBER)
            # Well before the 30 s failover wait: refusing binds is no reason to wait.
            await all_in(rig, "delivered", 1, timeout=10)

    assert sim.stats.submits == 0 and sim.stats.bind_failures >= 1
    assert node_destinations(node_smsc) == [international(VIETTEL_NUMBER)]


async def test_a_try_elsewhere_status_sends_the_message_by_the_next_link(
    tmp_path, store_location, node_smsc
):
    full = Rule(international(VIETTEL_NUMBER), "transient", Status.ESME_RMSGQFUL, count=1000)
    async with SmscSimulator(SimConfig(receipt_delay=0.01, rules=[full])) as sim:
        specs = [
            Spec("viettel", sim.port, VIETTEL, reroute=frozenset({Status.ESME_RMSGQFUL})),
            Spec("vnpt", node_smsc.port),
        ]
        async with running_links(store_location, specs) as rig:
            await rig.queue("job", to=VIETTEL_NUMBER)
            await all_in(rig, "delivered", 1)
            rows = await rig.rows()

    assert sim.stats.submits == 1
    assert rows == {"job": ("delivered", "vnpt")}


async def test_a_permanent_refusal_of_the_number_is_not_rerouted(
    tmp_path, store_location, node_smsc
):
    bad = Rule(international(VIETTEL_NUMBER), "reject", Status.ESME_RINVDSTADR)
    async with SmscSimulator(SimConfig(receipt_delay=0.01, rules=[bad])) as sim:
        specs = [
            Spec("viettel", sim.port, VIETTEL, reroute=frozenset({Status.ESME_RMSGQFUL})),
            Spec("vnpt", node_smsc.port),
        ]
        async with running_links(store_location, specs) as rig:
            await rig.queue("job", to=VIETTEL_NUMBER)
            await all_in(rig, "failed", 1)

    assert sim.stats.submits == 1
    assert node_destinations(node_smsc) == []


async def test_an_mo_reply_goes_back_by_the_link_the_mo_came_in_on(
    tmp_path, store_location, node_smsc
):
    async with SmscSimulator(SimConfig(receipt_delay=0.01)) as sim:
        # The citizen's number is in a Viettel range: a notice would go by the simulator.
        specs = [Spec("viettel", sim.port, VIETTEL), Spec("vnpt", node_smsc.port)]
        async with running_links(store_location, specs) as rig:
            await rig.accounts["vnpt"].wait_bound(5)
            citizen = international(VIETTEL_NUMBER)
            node_smsc.send({"cmd": "mo", "source": citizen, "destination": "8083", "text": "HD"})
            await node_smsc.wait_for("submit_sm")
            await eventually(lambda: len(node_smsc.events("deliver_sm_resp")) >= 2)
            rows = await rig.rows()

    (reply,) = node_smsc.events("submit_sm")
    assert (reply["destination_addr"], reply["source_addr"]) == (citizen, "8083")
    assert sim.stats.submits == 0
    assert [link for _, link in rows.values()] == ["vnpt"]


async def test_a_notice_goes_from_the_brandname_of_the_link_it_goes_by(
    tmp_path, store_location, node_smsc
):
    async with SmscSimulator(SimConfig(receipt_delay=0.01)) as sim:
        specs = [
            Spec("viettel", sim.port, VIETTEL, source_addr="MotcuaHN"),
            Spec("vnpt", node_smsc.port),
        ]
        async with running_links(store_location, specs) as rig:
            await rig.queue("a", to=VIETTEL_NUMBER)
            await rig.queue("b", to=VINAPHONE_NUMBER)
            await all_in(rig, "delivered", 2)

    assert [r.source for r in sim.records] == ["MotcuaHN"]
    assert [e["source_addr"] for e in node_smsc.events("submit_sm")] == ["MotcuaSMS"]


async def test_an_smsc_dropping_mid_burst_leaves_the_rest_to_the_other_within_a_window(
    tmp_path, store_location, node_smsc
):
    """The first link's SMSC drops every session and refuses binds after 20 submits: every
    message is delivered, by it or by node-smpp, with at most the broken link's window of
    duplicates (one session here; with `binds: N` it is N x `window`)."""
    count, window = 120, 10
    numbers = [f"098{n:07d}" for n in range(count)]
    async with SmscSimulator(SimConfig(receipt_delay=0.01, response_delay=0.05)) as sim:
        specs = [
            # 50 a second: the drop after 20 comes with most of the burst still to send,
            # however late this test's poll sees the 20th submit on a loaded machine.
            Spec("viettel", sim.port, session={"window": window, "tps": 50.0}),
            Spec("vnpt", node_smsc.port, session={"window": window}),
        ]
        async with running_links(store_location, specs) as rig:
            await rig.accounts["vnpt"].wait_bound(5)
            for n, number in enumerate(numbers):
                await rig.queue(f"job-{n}", to=number)
            await eventually(lambda: sim.stats.submits >= 20, 15, poll=0.005)
            sim.refuse_binds = Status.ESME_RSYSERR
            dropped = sim.drop_all()
            await eventually(lambda: len(node_smsc.events("submit_sm")) >= 20, 15)
            sim.refuse_binds = None  # back: the receipts it kept come in
            await all_in(rig, "delivered", count, timeout=60)
            rows = await rig.rows()

    accepted = [r.destination for r in sim.records if r.status == 0]
    sent = accepted + node_destinations(node_smsc)
    assert dropped == 1
    assert set(sent) == {international(n) for n in numbers}
    assert len(sent) - count <= window
    assert {link for _, link in rows.values()} == {"viettel", "vnpt"}
