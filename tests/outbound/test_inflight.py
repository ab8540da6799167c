"""The window of sends the channels beside SMS share, and quiet hours on their clock."""

from __future__ import annotations

import asyncio

import pytest

from gateway.outbound.inflight import InFlight, Quiet
from tests.support.clock import QUIET, TZ, Clock, at


async def test_a_send_holds_its_id_until_it_ends_however_it_ends():
    window = InFlight(2, "test.send")
    release = asyncio.Event()

    async def send() -> None:
        await release.wait()
        raise RuntimeError("the send failed")

    window.start(7, send())
    held = (set(window.busy), window.free)
    window.look()
    release.set()
    await window.wait(timeout=5)

    assert held == ({7}, 1)
    assert (window.busy, window.free) == (set(), 2)


async def test_wait_is_for_a_send_that_ends_after_the_look_not_one_before():
    window = InFlight(2, "test.send")
    later = asyncio.Event()

    async def send(gate: asyncio.Event | None) -> None:
        if gate is not None:
            await gate.wait()

    window.start(1, send(None))
    while window.busy:  # the first send ends before the look
        await asyncio.sleep(0)
    window.look()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(window.wait(), 0.1)
    window.start(2, send(later))
    later.set()
    await asyncio.wait_for(window.wait(), 5)  # the second ends after it: the wait returns

    assert window.busy == set()


async def test_cancel_ends_every_send_under_way():
    window = InFlight(3, "test.send")
    for key in range(3):
        window.start(key, asyncio.sleep(3600))

    await window.cancel()
    await asyncio.sleep(0)

    assert window.busy == set()


def test_a_window_of_none_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        InFlight(0, "test.send")


def test_quiet_hours_end_at_seven_and_hold_nothing_by_day():
    clock = Clock(at(21, 5))
    quiet = Quiet(QUIET, TZ, clock)

    night = quiet.until()
    clock.now = at(10, 0)

    assert night == at(7, 0, day=24)
    assert quiet.until() is None


def test_quiet_hours_need_their_zone():
    with pytest.raises(ValueError, match="time zone"):
        Quiet(QUIET, None, lambda: 0.0)


async def test_an_idle_wait_ends_when_the_next_item_falls_due():
    window = InFlight(1, "test.send")
    window.look()

    # Due a moment ago: the wait ends at once, long before its bound of an hour.
    await asyncio.wait_for(window.wait_until(99.0, 100.0, 3600), 5)
