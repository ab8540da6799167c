"""An MO reply never waits for a sender slot that notices hold: with every slot taken by
notices to a carrier that is slow to answer, the reply to an MCKH that came in by another
carrier goes out on that carrier at once. The citizen paid for the answer; the notices'
carrier being slow is no reason to keep it."""

from __future__ import annotations

from gateway.settings.links import Route
from gateway.smpp.sim import Rule, SimConfig, SmscSimulator
from tests.support.links import VIETTEL, Spec, running_links
from tests.support.wait import eventually

# The silent carrier's submit_sm stay unanswered this long: far beyond the test's wait.
SLOW = 60.0


async def test_an_mo_reply_goes_while_notices_fill_every_sender_slot(tmp_path, store_location):
    silent = SimConfig(receipt_delay=0.01, rules=(Rule("*", "no_response"),))
    async with (
        SmscSimulator(silent) as viettel,
        SmscSimulator(SimConfig(receipt_delay=0.01)) as vnpt,
    ):
        specs = [
            Spec("viettel", viettel.port, VIETTEL,
                 session={"window": 2, "response_timeout": SLOW, "relink_after": SLOW}),
            Spec("vnpt", vnpt.port, (Route(default=True),), session={"window": 2}),
        ]  # fmt: skip
        async with running_links(store_location, specs) as rig:
            await rig.accounts["vnpt"].wait_bound(5)
            await rig.accounts["viettel"].wait_bound(5)
            # Viettel's numbers: more than the sender's four slots, all waiting on Viettel.
            for n in range(8):
                await rig.queue(f"notice-{n}", to=f"098{n:07d}")
            await eventually(lambda: viettel.stats.submits >= 2, 10)
            await rig.queue_reply("reply-1", to="0912345678", link="vnpt")
            await eventually(
                lambda: any(r.destination.endswith("912345678") for r in vnpt.records), 10
            )
