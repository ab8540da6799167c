"""Receipts are matched by (link, id): ids are unique only within one SMSC, and a
receipt may come on any session of the account the submit went by."""

from __future__ import annotations

from gateway.smpp.sim import Rule, SimConfig, SmscSimulator
from tests.support.links import (
    VIETTEL,
    VIETTEL_NUMBER,
    VINAPHONE,
    VINAPHONE_NUMBER,
    Spec,
    running_links,
)
from tests.support.scripted_smsc import Smsc
from tests.support.wait import eventually

# node-smpp's first message id (tests/interop/smsc.js): "0A1B2C00", receipts "id:169552896".
NODE_FIRST_ID = 0x0A1B2C00


async def settled(rig, count: int) -> dict[str, tuple[str, str | None]]:
    async def done() -> bool:
        rows = await rig.rows()
        return len(rows) == count and all(
            s != "queued" and s != "submitted" for s, _ in rows.values()
        )

    await eventually(done, 15)
    return await rig.rows()


async def test_the_same_id_from_two_smscs_settles_each_its_own_message(
    tmp_path, store_location, node_smsc
):
    undeliverable = Rule("84981234567", "undeliverable")
    sim_config = SimConfig(
        receipt_delay=0.2, first_id=NODE_FIRST_ID, response_id_format="hex", rules=[undeliverable]
    )
    async with SmscSimulator(sim_config) as sim:
        specs = [Spec("viettel", sim.port, VIETTEL), Spec("vnpt", node_smsc.port, VINAPHONE)]
        async with running_links(store_location, specs) as rig:
            await rig.accounts["viettel"].wait_bound(5)
            await rig.accounts["vnpt"].wait_bound(5)
            await rig.queue("by-viettel", to=VIETTEL_NUMBER)
            await rig.queue("by-vnpt", to=VINAPHONE_NUMBER)
            rows = await settled(rig, 2)

    (node_submit,) = node_smsc.events("submit_sm")
    assert int(sim.records[0].message_id, 16) == int(node_submit["message_id"], 16)
    assert rows == {
        "by-viettel": ("undeliverable", "viettel"),
        "by-vnpt": ("delivered", "vnpt"),
    }


async def test_a_receipt_on_another_session_of_the_account_settles_its_message(
    tmp_path, store_location
):
    config = SimConfig(receipt_delay=0.01, receipts_elsewhere=True)
    async with SmscSimulator(config) as sim:
        specs = [Spec("viettel", sim.port, binds=2)]
        async with running_links(store_location, specs) as rig:
            await eventually(lambda: all(s.bound for s in rig.accounts["viettel"].sessions))
            for n in range(10):
                await rig.queue(f"job-{n}", to=VIETTEL_NUMBER)
            rows = await settled(rig, 10)

    assert sim.stats.receipts_elsewhere == 10
    assert set(rows.values()) == {("delivered", "viettel")}


async def test_a_receipt_for_a_reused_id_settles_the_message_of_its_own_link(
    tmp_path, store_location
):
    """Both SMSCs hand out the id 0A1B2C00. The older message's receipt (UNDELIV, by the
    first link) comes first, while the newer one (by the second link) also waits: matched by
    id alone it would settle the newer one, the last submitted under that id."""
    first = SimConfig(
        receipt_delay=1.0, first_id=NODE_FIRST_ID, rules=[Rule("8498*", "undeliverable")]
    )
    second = SimConfig(receipt_delay=2.0, first_id=NODE_FIRST_ID)
    async with SmscSimulator(first) as one, SmscSimulator(second) as two:
        specs = [Spec("viettel", one.port, VIETTEL), Spec("vnpt", two.port, VINAPHONE)]
        async with running_links(store_location, specs) as rig:
            await rig.queue("older", to=VIETTEL_NUMBER)

            async def older_submitted() -> bool:
                return (await rig.rows())["older"][0] == "submitted"

            await eventually(older_submitted)
            await rig.queue("newer", to=VINAPHONE_NUMBER)
            rows = await settled(rig, 2)

    assert one.records[0].message_id == two.records[0].message_id
    assert rows == {"older": ("undeliverable", "viettel"), "newer": ("delivered", "vnpt")}


async def test_receipts_before_their_responses_with_one_id_from_both_smscs_settle_each_its_own(
    tmp_path,
    store_location,
):
    """Both SMSCs number their first message 00000001 and send its receipt before the
    submit_sm_resp: Viettel's says UNDELIV, VNPT's DELIVRD; each settles its own."""

    def early(stat: str):
        def policy(smsc, conn, p):
            mid = smsc.next_id()
            conn.receipt(mid, stat)
            return smsc.accept(conn, p, mid=mid, later=0.2)

        return policy

    async with Smsc(early("UNDELIV")) as a, Smsc(early("DELIVRD")) as b:
        specs = [Spec("viettel", a.port, VIETTEL), Spec("vnpt", b.port)]
        async with running_links(store_location, specs) as rig:
            await rig.accounts["viettel"].wait_bound(5)
            await rig.accounts["vnpt"].wait_bound(5)
            await rig.queue("a", to=VIETTEL_NUMBER)
            await rig.queue("b", to=VINAPHONE_NUMBER)

            rows = await settled(rig, 2)
    assert rows == {"a": ("undeliverable", "viettel"), "b": ("delivered", "vnpt")}, rows
