"""Zalo's API unreachable for a while in the middle of a burst of notices (issue 16's
fault): connections refused, 503 answers, or answers slower than the client waits, for
several seconds. Everything ends delivered, by Zalo or by SMS; nothing is lost; a citizen
Zalo told is sent no SMS; no notice goes twice on one channel (the simulator's ZNS per
tracking id, the SMSC's SMS per number)."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.wait import eventually
from tests.support.zalo_daemon import ZaloDaemon, zalo_daemon

COUNT = 300
OUTAGE = 4.0  # seconds: longer than the sender's retries of one notice
FALLBACK_AFTER = 8.0
SLOW = 1.5  # seconds Zalo takes to answer while slow: more than the daemon's timeout (1)


def number(n: int) -> str:
    return f"849051{n:05d}"


def rule_of(n: int) -> str | None:
    """A mix of citizens: most on Zalo, some without it, some Zalo never confirms."""
    return {3: "no_zalo", 7: "never_delivered"}.get(n % 10)


async def outage(rig: ZaloDaemon, mode: str) -> None:
    """Zalo out of reach for OUTAGE seconds, from now."""
    if mode == "too-slow":
        rig.zalo.sim.response_delay = SLOW
        asyncio.get_running_loop().call_later(OUTAGE, setattr, rig.zalo.sim, "response_delay", 0)
        return
    body = {"seconds": OUTAGE, "refuse": mode == "connection-refused"}
    status, _ = await rig.zalo.control("POST", "/down", body)
    assert status == 200


@pytest.mark.parametrize("mode", ["connection-refused", "http-503", "too-slow"])
async def test_zalo_out_of_reach_mid_burst_every_citizen_is_told_once(broker, tmp_path, mode):
    async with zalo_daemon(broker.port, tmp_path, fallback_after=FALLBACK_AFTER) as rig:
        for n in range(COUNT):
            if (rule := rule_of(n)) is not None:
                await rig.rule(number(n), rule)
        refs = await rig.notices([number(n) for n in range(COUNT)])
        await eventually(lambda: len(rig.zalo.sim.sent) >= COUNT // 4, timeout=60, poll=0.005)
        await outage(rig, mode)
        sent_before = len(rig.zalo.sim.sent)

        await rig.reach(refs, "delivered", timeout=FALLBACK_AFTER + 120)

    assert sent_before < COUNT - COUNT // 10, "the outage must land mid-burst"
    assert max(rig.zns_per_tracking().values()) == 1, "a ZNS sent twice"
    sms = rig.sms_per_number()
    assert max(sms.values()) == 1, "an SMS sent twice"
    delivered_by_zalo = {m.phone for m in rig.zalo.sim.sent if m.delivered}
    for n in range(COUNT):
        told = (number(n) in delivered_by_zalo) + sms[number(n)]
        assert told == 1, f"citizen {n} ({rule_of(n)}) told {told} times"
    finals = [rig.events(ref)[-1] for ref in refs]
    assert {(e["state"], e["channel"]) for e in finals} == {
        ("delivered", "zalo"), ("delivered", "sms")
    }  # fmt: skip
    by_sms = sum(1 for e in finals if e["channel"] == "sms")
    assert by_sms >= COUNT // 5  # those without Zalo, and those Zalo never confirms
    felt = "zalo_unanswered" if mode == "too-slow" else "zalo_call_refused"
    assert rig.log_events()[felt] > 0, "the daemon must have met the outage"
