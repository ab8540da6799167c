"""Attack on several SMSC links (issue 18): what breaks when carriers misbehave."""

from __future__ import annotations

from gateway.settings.links import Route
from gateway.smpp.sim import SimConfig, SmscSimulator
from tests.support.links import VIETTEL, VIETTEL_NUMBER, Spec, running_links
from tests.support.wait import eventually


async def all_in(rig, state: str, count: int, timeout: float = 15) -> None:
    async def done() -> bool:
        rows = await rig.rows()
        return len(rows) == count and all(s == state for s, _ in rows.values())

    await eventually(done, timeout)


async def _closed_port() -> int:
    sim = SmscSimulator(SimConfig())
    await sim.start()
    port = sim.port
    await sim.stop()
    return port


async def test_receipts_before_the_responses_with_one_id_from_both_smscs(tmp_path):
    """Both SMSCs number their first message 00000001 and send its receipt before the
    submit_sm_resp: Viettel's says UNDELIV, VNPT's DELIVRD; each settles its own."""
    from tests.support.scripted_smsc import Smsc

    def early(stat: str):
        def policy(smsc, conn, p):
            mid = smsc.next_id()
            conn.receipt(mid, stat)
            return smsc.accept(conn, p, mid=mid, later=0.2)

        return policy

    async with Smsc(early("UNDELIV")) as a, Smsc(early("DELIVRD")) as b:
        specs = [Spec("viettel", a.port, VIETTEL), Spec("vnpt", b.port, (Route(default=True),))]
        async with running_links(tmp_path / "g.db", specs) as rig:
            await rig.accounts["viettel"].wait_bound(5)
            await rig.accounts["vnpt"].wait_bound(5)
            await rig.queue("a", to=VIETTEL_NUMBER)
            await rig.queue("b", to="0912345678")

            async def settled() -> bool:
                rows = await rig.rows()
                return len(rows) == 2 and all(s not in ("queued", "submitted", "sending")
                                              for s, _ in rows.values())

            await eventually(settled, timeout=15)
            rows = await rig.rows()
    assert rows == {"a": ("undeliverable", "viettel"), "b": ("delivered", "vnpt")}, rows
