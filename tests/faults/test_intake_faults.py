"""A poison SMS job inside a 2,000-job burst, through the daemon, mosquitto and the SMSC.

The poison job names a template with parameters named like the renderer's own arguments
(`strip`, `template`): before, it raised in the renderer, its whole batch failed and was
retried for ever, and the jobs batched with it were never stored nor acknowledged.
"""

from __future__ import annotations

from gateway.smpp.sim import SimConfig, SmscSimulator
from tests.support.burst import Burst, jobs
from tests.support.daemon import publish

COUNT = 2_000
POISON = {
    "id": "job-poison",
    "to": "0905123456",
    "template": "result",
    "params": {"receipt_no": "0101701234", "strip": "x", "template": "y"},
}


async def test_poison_job_in_a_burst_is_rejected_alone_and_the_rest_delivered(
    fresh_broker, tmp_path
):
    async with (
        SmscSimulator(SimConfig(receipt_delay=0.01)) as smsc,
        Burst(fresh_broker.port, smsc, tmp_path, COUNT - 1) as burst,
    ):
        items = jobs(COUNT - 1)
        items.insert(COUNT // 2, ("motcua/SCT/sms", POISON))
        await publish(fresh_broker.port, items)

        delivered = await burst.all_delivered(timeout=180)
        events = await burst.watch.wait_for(
            lambda ev: any(e["id"] == "job-poison" for e in ev), timeout=30
        )
        burst.check(delivered)
        (poison,) = [e for e in events if e["id"] == "job-poison"]
        assert poison["state"] == "rejected"
        assert poison["reason"].startswith("params: 'strip', 'template' not a placeholder")
        assert smsc.stats.submits >= COUNT - 1
