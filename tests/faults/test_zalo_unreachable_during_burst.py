"""Zalo's API unreachable for a while in the middle of a burst of notices (issue 16's
fault): connections refused, or 503 answers, for several seconds. Everything ends
delivered, by Zalo or by SMS; nothing is lost; a citizen Zalo told is sent no SMS; no
notice goes twice on one channel (the simulator's ZNS per tracking id, the SMSC's SMS
per number)."""

from __future__ import annotations

import pytest

from tests.support.zalo_daemon import zalo_daemon

COUNT = 300
OUTAGE = 4.0  # seconds: longer than the sender's retries of one notice
FALLBACK_AFTER = 8.0


def number(n: int) -> str:
    return f"849051{n:05d}"


def rule_of(n: int) -> str | None:
    """A mix of citizens: most on Zalo, some without it, some Zalo never confirms."""
    return {3: "no_zalo", 7: "never_delivered"}.get(n % 10)


@pytest.mark.parametrize("refuse", [True, False], ids=["connection-refused", "http-503"])
async def test_zalo_down_mid_burst_every_notice_is_told_once(broker, tmp_path, refuse):
    async with zalo_daemon(broker.port, tmp_path, fallback_after=FALLBACK_AFTER) as rig:
        for n in range(COUNT):
            if (rule := rule_of(n)) is not None:
                await rig.rule(number(n), rule)
        refs = await rig.notices([number(n) for n in range(COUNT)])
        await rig.reach(refs[: COUNT // 4], "queued")
        from tests.support.wait import eventually

        await eventually(lambda: len(rig.zalo.sim.sent) >= COUNT // 4, timeout=60, poll=0.005)
        status, _ = await rig.zalo.control(
            "POST", "/down", {"seconds": OUTAGE, "refuse": refuse}
        )
        assert status == 200
        sent_before = len(rig.zalo.sim.sent)

        await rig.reach(refs, "delivered", timeout=FALLBACK_AFTER + 120)

    assert 0 < sent_before < COUNT - COUNT // 10, "the outage must land mid-burst"
    per_tracking = rig.zns_per_tracking()
    assert max(per_tracking.values()) == 1, "a ZNS sent twice"
    sms = rig.sms_per_number()
    assert max(sms.values()) == 1, "an SMS sent twice"
    delivered_by_zalo = {m.phone for m in rig.zalo.sim.sent if m.delivered}
    for n in range(COUNT):
        told = (number(n) in delivered_by_zalo) + sms[number(n)]
        assert told == 1, f"citizen {n} ({rule_of(n)}) told {told} times"
    finals = {ref: rig.events(ref)[-1] for ref in refs}
    assert {(e["state"], e["channel"]) for e in finals.values()} == {
        ("delivered", "zalo"), ("delivered", "sms")
    }  # fmt: skip
    fell_back = sum(1 for e in finals.values() if e["channel"] == "sms")
    assert fell_back > COUNT * 2 // 10, "the outage sent some of Zalo's notices by SMS"
