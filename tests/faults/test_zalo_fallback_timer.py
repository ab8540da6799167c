"""The durable fallback timer across SIGKILL: a notice Zalo accepted and never confirms
goes by SMS once, when its timer ends, whether the daemon was killed before the timer
ended or stayed down past it."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

from tests.support.zalo import NEVER
from tests.support.zalo_daemon import zalo_daemon

FALLBACK_AFTER = 8.0  # long enough for a restart on a loaded machine
BY_ZALO_THEN_SMS = [
    ("queued", "zalo"), ("submitted", "zalo"),
    ("queued", "sms"), ("submitted", "sms"), ("delivered", "sms"),
]  # fmt: skip


def at(event: dict) -> float:
    return datetime.fromisoformat(event["at"]).timestamp()


async def test_a_kill_before_the_timer_ends_sends_one_sms_when_it_ends(broker, tmp_path):
    async with zalo_daemon(broker.port, tmp_path, fallback_after=FALLBACK_AFTER) as rig:
        await rig.rule(NEVER, "never_delivered")
        (ref,) = await rig.notices([NEVER])
        await rig.reach([ref], "submitted")
        accepted = time.monotonic()
        await rig.kill()
        await rig.start()
        restarted = time.monotonic() - accepted

        await rig.reach([ref], "delivered", timeout=FALLBACK_AFTER + 30)

    assert restarted < FALLBACK_AFTER, "the restart must come before the timer ends"
    assert rig.trail(ref) == BY_ZALO_THEN_SMS
    submitted, handed = rig.events(ref)[1:3]
    assert at(handed) - at(submitted) >= FALLBACK_AFTER - 1  # `at` is to the second
    assert handed["reason"] == "zalo: no receipt within 8 s"
    assert rig.sms_to(NEVER) == 1
    assert list(rig.zns_per_tracking().values()) == [1]


async def test_a_daemon_down_past_the_timer_sends_one_sms_once_it_is_back(broker, tmp_path):
    async with zalo_daemon(broker.port, tmp_path, fallback_after=FALLBACK_AFTER) as rig:
        await rig.rule(NEVER, "never_delivered")
        (ref,) = await rig.notices([NEVER])
        await rig.reach([ref], "submitted")
        await rig.kill()
        await asyncio.sleep(FALLBACK_AFTER + 0.5)  # the timer ends while nothing runs
        assert rig.sms_to(NEVER) == 0
        await rig.start()

        await rig.reach([ref], "delivered", timeout=30)

    assert rig.trail(ref) == BY_ZALO_THEN_SMS
    assert rig.sms_to(NEVER) == 1
    assert list(rig.zns_per_tracking().values()) == [1]
