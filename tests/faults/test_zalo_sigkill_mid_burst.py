"""SIGKILL of the daemon while ZNS requests are in flight, then a restart: every notice
ends delivered, and none goes twice by Zalo (a notice whose request went before the kill
may be Zalo's already: it waits for its receipt, or its fallback timer, not a second ZNS).
"""

from __future__ import annotations

from tests.support.wait import eventually
from tests.support.zalo_daemon import zalo_daemon

COUNT = 120
FALLBACK_AFTER = 6.0


def number(n: int) -> str:
    return f"849052{n:05d}"


async def test_sigkill_with_zns_in_flight_sends_no_notice_twice_by_zalo(broker, tmp_path):
    async with zalo_daemon(broker.port, tmp_path, fallback_after=FALLBACK_AFTER) as rig:
        rig.zalo.sim.response_delay = 0.2  # requests in flight at any moment
        refs = await rig.notices([number(n) for n in range(COUNT)])
        await eventually(lambda: len(rig.zalo.sim.sent) >= COUNT // 4, timeout=60, poll=0.005)
        await eventually(lambda: rig.zalo.sim.in_flight > 0, timeout=10, poll=0.001)
        await rig.kill()
        killed_at = len(rig.zalo.sim.sent)
        await rig.start()

        await rig.reach(refs, "delivered", timeout=FALLBACK_AFTER + 120)

    assert killed_at < COUNT, "the kill must land mid-burst"
    assert max(rig.zns_per_tracking().values()) == 1, "a ZNS sent twice"
    assert max(rig.sms_per_number().values(), default=0) <= 1, "an SMS sent twice"
