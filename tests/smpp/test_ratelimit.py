"""The throughput cap, on a fake clock: evenly paced, never over tps in a sliding second."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from gateway.smpp import ratelimit
from gateway.smpp.ratelimit import Pacer, Unlimited


class FakeClock:
    """Time that moves only when the pacer sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()

    async def sleep(seconds: float) -> None:
        fake.now += seconds

    monkeypatch.setattr(ratelimit.asyncio, "sleep", sleep)
    return fake


@pytest.fixture
def late_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Sleeps that end 1 ms late, as they do on a busy event loop."""
    fake = FakeClock()

    async def sleep(seconds: float) -> None:
        fake.now += seconds + 0.001

    monkeypatch.setattr(ratelimit.asyncio, "sleep", sleep)
    return fake


def max_in_any_second(times: list[float]) -> int:
    best, start = 0, 0
    for end in range(len(times)):
        while times[end] - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_sends_are_spaced_evenly(clock):
    """tps=50 → one submit every 20 ms, not a burst of 50 then a pause."""
    pacer = Pacer(50, clock=clock)
    times = []
    for _ in range(10):
        await pacer.wait()
        times.append(clock.now)

    gaps = [round(b - a, 6) for a, b in itertools.pairwise(times)]
    assert gaps == [0.02] * 9


@pytest.mark.parametrize("tps", [1, 7, 50, 200, 12.5])
async def test_no_sliding_second_holds_more_than_tps(clock, tps):
    """Whatever the rate, any one-second window holds at most floor(tps) submits."""
    pacer = Pacer(tps, clock=clock)
    times = []
    for _ in range(int(tps * 5) + 3):
        await pacer.wait()
        times.append(clock.now)

    assert max_in_any_second(times) <= int(tps)


async def test_rate_after_an_idle_gap_does_not_burst(clock):
    """Idle time is not saved up: after a pause submits are still paced."""
    pacer = Pacer(10, clock=clock)
    await pacer.wait()
    clock.now += 30
    times = []
    for _ in range(5):
        await pacer.wait()
        times.append(clock.now)

    assert times[-1] - times[0] == pytest.approx(0.4)


@pytest.mark.parametrize("tps", [50, 200])
async def test_late_wakeups_do_not_slow_the_rate(late_clock, tps):
    """Lateness is made up on the next submit, not added to every interval: ten
    seconds' worth of submits take ten seconds (within 1 %), still never over tps."""
    pacer = Pacer(tps, clock=late_clock)
    times = []
    for _ in range(tps * 10 + 1):
        await pacer.wait()
        times.append(late_clock.now)

    assert times[-1] - times[0] == pytest.approx(10.0, rel=0.01)
    assert max_in_any_second(times) <= tps


async def test_concurrent_callers_line_up(clock):
    """Many tasks waiting at once still get one slot each, in order."""
    pacer = Pacer(100, clock=clock)
    times: list[float] = []

    async def one() -> None:
        await pacer.wait()
        times.append(clock.now)

    await asyncio.gather(*(one() for _ in range(300)))

    assert max_in_any_second(sorted(times)) <= 100


async def test_unlimited_never_waits():
    assert await Unlimited().wait() is None


def test_zero_tps_means_no_limiter():
    assert isinstance(ratelimit.limiter_for(0), Unlimited)
    assert isinstance(ratelimit.limiter_for(5), Pacer)
