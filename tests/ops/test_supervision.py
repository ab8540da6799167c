"""A failed part of the daemon starts again after a pause that doubles up to the part's
longest; the store heartbeat's longest is half a beat interval, so a heartbeat that failed
while the store was away beats again well within the lease once the store is back."""

from __future__ import annotations

import asyncio

from gateway.ops.supervision import RESTART_MAX, RESTART_MIN, heartbeat_pause, supervised
from gateway.settings.daemon import DaemonConfig
from gateway.store.schema import StoreUnavailable


class _StoreAway:
    """A part that fails while the store is away (`failures` calls), then runs."""

    def __init__(self, failures: int) -> None:
        self.left = failures
        self.runs = 0

    async def __call__(self) -> None:
        self.runs += 1
        if self.left > 0:
            self.left -= 1
            raise StoreUnavailable("postgresql://gateway@db/motcua", "server closed")


async def _pauses(part: _StoreAway, longest: float) -> list[float]:
    pauses: list[float] = []

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)

    async with asyncio.timeout(10):
        await supervised("part", part, longest=longest, sleep=sleep)
    return pauses


async def test_a_failed_part_starts_again_after_pauses_doubling_up_to_the_longest():
    part = _StoreAway(failures=8)

    pauses = await _pauses(part, RESTART_MAX)

    assert pauses == [RESTART_MIN * 2**n for n in range(6)] + [RESTART_MAX] * 2
    assert part.runs == 9


async def test_the_heartbeat_failing_while_the_store_is_away_never_pauses_past_half_a_beat():
    daemon = DaemonConfig()  # lease 30 s: a beat every 10 s
    part = _StoreAway(failures=20)  # the store away for minutes

    pauses = await _pauses(part, heartbeat_pause(daemon.heartbeat_every))

    assert max(pauses) == daemon.heartbeat_every / 2 == daemon.lease_seconds / 6
    assert part.runs == 21
