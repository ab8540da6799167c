"""Reconnecting to an SMSC that accepts the bind and drops it at once."""

from __future__ import annotations

import asyncio

import pytest

from gateway.smpp.session import Session
from gateway.smpp.sim import SimConfig, SmscSimulator
from tests.support.session import session_config
from tests.support.wait import eventually


@pytest.mark.slow
async def test_bind_dropped_at_once_meets_a_growing_backoff(inbox):
    """Each bind closed by the SMSC right after it is made: the pause before the next
    one doubles (0.05, 0.1, 0.2, ... up to 0.8 s), so 2.5 s see a handful of binds, not
    one every reconnect_min."""
    async with SmscSimulator(SimConfig(bind_lifetime=0.0)) as smsc:
        config = session_config(
            smsc.port, reconnect_min=0.05, reconnect_max=0.8, bind_stable_after=1.0
        )
        async with Session(config, inbox):
            await eventually(lambda: smsc.stats.binds >= 1)
            await asyncio.sleep(2.5)
            binds = smsc.stats.binds

    # With the back-off reset at every bind: one bind every 25-50 ms, over 50 of them.
    assert 3 <= binds <= 12, binds


@pytest.mark.slow
async def test_bind_that_stayed_up_resets_the_backoff(inbox):
    """Sessions that last longer than bind_stable_after before the SMSC drops them are
    each followed by the shortest pause: 8 binds in well under 4.5 s (a back-off that
    kept doubling would need more than 5 s for them)."""
    async with SmscSimulator(SimConfig(bind_lifetime=0.3)) as smsc:
        config = session_config(
            smsc.port, reconnect_min=0.05, reconnect_max=5.0, bind_stable_after=0.2
        )
        async with Session(config, inbox):
            await eventually(lambda: smsc.stats.binds >= 8, timeout=4.5)

    assert smsc.stats.dropped_sessions >= 7
