"""A link that is down, or bound and silent, over real TCP: its messages give their sender
slots back and go to the next matching link, and the other links' messages never wait for
it (tests/support/links.py wires the store, tracker, router and sender as the daemon does).
"""

from __future__ import annotations

import structlog.testing

from gateway.settings.links import Route
from gateway.smpp.codes import Status
from gateway.smpp.sim import Rule, SimConfig, SmscSimulator
from tests.support.links import VIETTEL, VIETTEL_NUMBER, Spec, running_links
from tests.support.wait import eventually


async def closed_port() -> int:
    """A port nothing listens on: the host refuses the connection, the common outage."""
    sim = SmscSimulator(SimConfig())
    await sim.start()
    port = sim.port
    await sim.stop()
    return port


async def test_messages_only_a_down_link_takes_give_their_sender_slots_back(
    tmp_path, store_location
):
    """Numbers only the default link takes have one leg; with that link down a burst of
    them must not fill the sender's slots (the sum of every link's window): each waits
    `failover_after` at most, then goes back to the store with no attempt spent, and the
    live link's messages queued behind them go."""
    down = await closed_port()
    async with SmscSimulator(SimConfig(receipt_delay=0.01)) as viettel:
        specs = [
            Spec("viettel", viettel.port, VIETTEL, session={"window": 10}),
            Spec("vnpt", down, (Route(default=True),), session={"window": 10}),
        ]
        async with running_links(store_location, specs) as rig:
            await rig.accounts["viettel"].wait_bound(5)
            for n in range(30):  # Vinaphone ranges: only the default link takes them
                await rig.queue(f"vina-{n}", to=f"091{n:07d}")
            for n in range(5):
                await rig.queue(f"viettel-{n}", to=f"098{n:07d}")

            async def viettel_done() -> bool:
                rows = await rig.rows()
                return all(rows[f"viettel-{n}"][0] == "delivered" for n in range(5))

            await eventually(viettel_done, timeout=15)
            rows = await rig.rows()
            attempts = await rig.attempts()
    assert all(rows[f"vina-{n}"] == ("queued", None) for n in range(30)), rows
    assert all(attempts[f"vina-{n}"] == 0 for n in range(30)), attempts


async def test_a_node_smpp_link_is_not_starved_by_a_down_default_link(
    tmp_path, store_location, node_smsc
):
    """The same with node-smpp as the live link."""
    down = await closed_port()
    specs = [
        Spec("viettel", node_smsc.port, VIETTEL, session={"window": 10}),
        Spec("vnpt", down, (Route(default=True),), session={"window": 10}),
    ]
    async with running_links(store_location, specs) as rig:
        await rig.accounts["viettel"].wait_bound(5)
        for n in range(30):
            await rig.queue(f"vina-{n}", to=f"091{n:07d}")
        await rig.queue("viettel-0", to="0980000000")

        async def viettel_sent() -> bool:
            return (await rig.rows())["viettel-0"][0] in {"submitted", "delivered"}

        await eventually(viettel_sent, timeout=15)


async def test_an_mo_reply_pinned_to_a_down_link_gives_its_slot_back(tmp_path, store_location):
    """An MO reply goes only by the link its MO came in on: with that link down it waits
    in the store (no attempt spent), not in a sender slot for its whole TTL."""
    down = await closed_port()
    async with SmscSimulator(SimConfig(receipt_delay=0.01)) as viettel:
        specs = [
            Spec("viettel", viettel.port, VIETTEL, session={"window": 1}),
            Spec("vnpt", down, (Route(default=True),), session={"window": 1}),
        ]
        async with running_links(store_location, specs) as rig:
            await rig.accounts["viettel"].wait_bound(5)
            for n in range(4):  # more replies than the sender has slots (2)
                await rig.queue_reply(f"reply-{n}", to=f"098{n:07d}", link="vnpt")
            await rig.queue("viettel-0", to="0980000009")

            async def sent() -> bool:
                return (await rig.rows())["viettel-0"][0] == "delivered"

            await eventually(sent, timeout=15)
            rows = await rig.rows()
            attempts = await rig.attempts()
    assert all(rows[f"reply-{n}"] == ("queued", "vnpt") for n in range(4)), rows
    assert all(attempts[f"reply-{n}"] == 0 for n in range(4)), attempts


async def test_a_long_message_whose_link_dies_between_parts_waits_in_the_store_for_it(
    tmp_path, store_location
):
    """The first part went by Viettel, which then drops and refuses binds: the rest must
    go by Viettel too (a phone joins the parts of one SMSC), so the message goes back to
    the store (its part kept, no attempt spent) rather than hold a slot, the other
    link's messages go meanwhile, and the rest goes by Viettel once it is back."""
    async with (
        SmscSimulator(SimConfig(receipt_delay=0.01)) as viettel,
        SmscSimulator(SimConfig(receipt_delay=0.01)) as vnpt,
    ):
        specs = [
            # One part a second: the link can die between the two parts.
            Spec("viettel", viettel.port, VIETTEL, session={"window": 1, "tps": 1.0}),
            Spec("vnpt", vnpt.port, (Route(default=True),), session={"window": 1}),
        ]
        async with running_links(store_location, specs) as rig:
            await rig.accounts["viettel"].wait_bound(5)
            await rig.accounts["vnpt"].wait_bound(5)
            await rig.queue("long", to=VIETTEL_NUMBER, text="Thong bao " * 20)  # 2 parts
            await eventually(lambda: viettel.stats.submits == 1, 10, poll=0.005)
            viettel.refuse_binds = Status.ESME_RSYSERR
            viettel.drop_all()
            for n in range(3):
                await rig.queue(f"vina-{n}", to=f"091{n:07d}")

            async def others_done() -> bool:
                rows = await rig.rows()
                return all(rows[f"vina-{n}"][0] == "delivered" for n in range(3))

            await eventually(others_done, 15)

            async def back_in_the_store() -> bool:
                return (await rig.rows())["long"] == ("queued", "viettel")

            await eventually(back_in_the_store, 15)
            attempts = (await rig.attempts())["long"]
            viettel.refuse_binds = None

            async def long_done() -> bool:
                return (await rig.rows())["long"][0] == "delivered"

            await eventually(long_done, 15)
    assert attempts == 0
    assert [r.destination for r in viettel.records] == [international(VIETTEL_NUMBER)] * 2
    assert all(not r.destination.startswith("8498") for r in vnpt.records)


async def test_a_link_known_down_is_skipped_at_once_by_new_messages(tmp_path, store_location):
    """With the Viettel host refusing connections, only the messages taken before it had
    been down a whole `failover_after` wait for it (at most the sender's slots' worth);
    every later Viettel-range message goes by the next link without waiting."""
    count = 60
    down = await closed_port()
    async with SmscSimulator(SimConfig(receipt_delay=0.01)) as vnpt:
        specs = [
            Spec("viettel", down, VIETTEL, failover_after=2.0, session={"window": 10}),
            Spec("vnpt", vnpt.port, (Route(default=True),), session={"window": 10}),
        ]
        with structlog.testing.capture_logs() as logs:
            async with running_links(store_location, specs) as rig:
                await rig.accounts["vnpt"].wait_bound(5)
                for n in range(count):
                    await rig.queue(f"job-{n}", to=f"098{n:07d}")
                await all_in(rig, "delivered", count, timeout=60)
                rows = await rig.rows()
    skipped = [e["why"] for e in logs if e["event"] == "route_skipped" and e["link"] == "viettel"]
    assert {link for _, link in rows.values()} == {"vnpt"}
    assert len(skipped) == count
    assert skipped.count("not bound") <= rig.router.window, skipped
    assert skipped.count("down") >= count - rig.router.window, skipped


async def test_a_link_that_never_answers_submit_sm_hands_the_retry_to_the_next(
    tmp_path, store_location
):
    """A carrier that stays bound (enquire_link answered) but never answers submit_sm:
    the attempt ends in a relink and an unknown outcome, and the retry goes by the next
    matching link, not to the same still-bound one until the attempts run out."""
    silent = SimConfig(receipt_delay=0.01, rules=(Rule("*", "no_response"),))
    async with (
        SmscSimulator(silent) as viettel,
        SmscSimulator(SimConfig(receipt_delay=0.01)) as vnpt,
    ):
        specs = [
            Spec("viettel", viettel.port, VIETTEL,
                 session={"response_timeout": 0.3, "relink_after": 0.6}),
            Spec("vnpt", vnpt.port, (Route(default=True),)),
        ]  # fmt: skip
        async with running_links(store_location, specs, max_attempts=3) as rig:
            await rig.accounts["vnpt"].wait_bound(5)
            await rig.accounts["viettel"].wait_bound(5)
            await rig.queue("job-1", to=VIETTEL_NUMBER)

            async def final() -> bool:
                rows = await rig.rows()
                return rows.get("job-1", ("queued",))[0] in {"delivered", "failed", "expired"}

            await eventually(final, timeout=40)
            rows = await rig.rows()
    assert rows["job-1"] == ("delivered", "vnpt"), rows
    assert viettel.stats.submits == 1


async def test_a_message_refused_for_good_names_the_link_it_went_by(tmp_path, store_location):
    """A permanent refusal is the message's own (never rerouted), and its row and final
    status name the link that refused it."""
    bad = Rule(international(VIETTEL_NUMBER), "reject", Status.ESME_RINVDSTADR)
    async with (
        SmscSimulator(SimConfig(receipt_delay=0.01, rules=[bad])) as viettel,
        SmscSimulator(SimConfig(receipt_delay=0.01)) as vnpt,
    ):
        specs = [Spec("viettel", viettel.port, VIETTEL), Spec("vnpt", vnpt.port)]
        async with running_links(store_location, specs) as rig:
            await rig.accounts["viettel"].wait_bound(5)
            await rig.queue("job", to=VIETTEL_NUMBER)
            await all_in(rig, "failed", 1)
            rows = await rig.rows()
            statuses = await rig.statuses()
    assert rows == {"job": ("failed", "viettel")}
    assert [(s["state"], s.get("link")) for s in statuses][-1] == ("failed", "viettel")
    assert vnpt.stats.submits == 0


def international(national: str) -> str:
    return "84" + national[1:]


async def all_in(rig, state: str, count: int, timeout: float = 15) -> None:
    async def done() -> bool:
        rows = await rig.rows()
        return len(rows) == count and all(s == state for s, _ in rows.values())

    await eventually(done, timeout)
