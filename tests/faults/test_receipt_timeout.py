"""An SMSC that never sends some receipts: those messages end `expired`, and say why."""

from __future__ import annotations

from gateway.smpp.sim import Rule, SimConfig, SmscSimulator
from gateway.store.receipts import NO_RECEIPT
from tests.support.burst import Burst

COUNT = 300
TIMEOUT = 2  # smpp.receipt_timeout, seconds


async def test_messages_whose_receipt_never_comes_expire_and_the_rest_are_delivered(
    broker, tmp_path
):
    """Numbers ending in 7 get no receipt: after receipt_timeout they are `expired`
    ("no delivery receipt"), published on the status topic; every other one delivered."""
    silent = {f"job-{n}" for n in range(COUNT) if n % 10 == 7}
    config = SimConfig(receipt_delay=0.05, rules=(Rule("*7", "no_receipt"),))
    async with (
        SmscSimulator(config) as smsc,
        Burst(broker.port, smsc, tmp_path, COUNT, smpp=f"  receipt_timeout: {TIMEOUT}\n") as burst,
    ):
        await burst.publish()
        final = await burst.all_final(("delivered", "expired", "failed"))

    expired = {ref for ref, e in final.items() if e["state"] == "expired"}
    assert expired == silent
    assert {final[ref]["reason"] for ref in expired} == {NO_RECEIPT}
    assert {e["state"] for ref, e in final.items() if ref not in silent} == {"delivered"}
    assert len(final) == COUNT
    # Each was sent once: expiry is the end of the wait, not a reason to send again.
    assert smsc.stats.submits == COUNT
