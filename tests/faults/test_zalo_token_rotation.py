"""Zalo's rotating refresh token across restarts: each refresh spends the refresh token in
the file and leaves the new one there, so a restarted daemon refreshes from the rotated
token (the simulator refuses a spent one) and its notices still go by Zalo."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.zalo import DELIVERED
from tests.support.zalo_daemon import ZaloDaemon, zalo_daemon

LIFETIME = 2.0  # seconds an access token lives: refreshed half-way through


async def rotated_twice(rig: ZaloDaemon) -> None:
    """Two notices a token's lifetime apart: two refreshes, two rotated refresh tokens."""
    status, _ = await rig.zalo.control("POST", "/token_lifetime", {"seconds": LIFETIME})
    assert status == 200
    first = await rig.notices([DELIVERED])
    await rig.reach(first, "delivered")
    await asyncio.sleep(LIFETIME)  # the access token ages past its refresh time
    second = await rig.notices([DELIVERED], start=1)
    await rig.reach(second, "delivered")
    assert rig.zalo.sim.refreshes == 2


@pytest.mark.parametrize("how", ["stopped", "killed"])
async def test_a_restarted_daemon_refreshes_from_the_rotated_token(broker, tmp_path, how):
    async with zalo_daemon(broker.port, tmp_path, fallback_after=30) as rig:
        first_token = rig.zalo.sim.config.refresh_token
        await rotated_twice(rig)
        if how == "stopped":
            await rig.stop()
        else:
            await rig.kill()
        kept = rig.zalo.token_file.read_text(encoding="utf-8").strip()
        working = rig.zalo.sim.refresh_token  # the one the simulator takes now
        await rig.start()

        (ref,) = await rig.notices([DELIVERED], start=2)
        await rig.reach([ref], "delivered")

    assert kept == working != first_token
    assert rig.zalo.token_file.read_text(encoding="utf-8").strip() == rig.zalo.sim.refresh_token
    assert rig.zalo.sim.refreshes == 3
    assert rig.zalo.sim.refused_refreshes == 0
    assert rig.trail(ref) == [("queued", "zalo"), ("submitted", "zalo"), ("delivered", "zalo")]
    assert rig.sms_to(DELIVERED) == 0
