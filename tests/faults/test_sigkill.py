"""SIGKILL of the daemon mid-burst, then a restart: every accepted message finishes."""

from __future__ import annotations

import signal

from gateway.smpp.sim import SimConfig, SmscSimulator
from tests.support.burst import Burst

COUNT = 2000


async def test_sigkill_mid_burst_loses_nothing_and_duplicates_at_most_a_window(broker, tmp_path):
    async with (
        SmscSimulator(SimConfig(receipt_delay=0.05, response_delay=0.002)) as smsc,
        Burst(broker.port, smsc, tmp_path, COUNT) as burst,
    ):
        await burst.publish()
        await burst.submitted_at_least(COUNT // 3)
        burst.daemon.send_signal(signal.SIGKILL)
        await burst.daemon.wait()
        killed_at = smsc.stats.submits

        await burst.start()
        delivered = await burst.all_delivered()

    assert 0 < killed_at < COUNT, "the kill must land mid-burst"
    burst.check(delivered)
