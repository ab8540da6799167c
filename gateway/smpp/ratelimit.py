"""Throughput cap for submit_sm: evenly paced and never over `tps` in any sliding second.

Carriers count submits in a sliding one-second window. A limiter that lets a second's
quota out in one burst (Kannel's `throughput`) looks fine per calendar second and is
throttled anyway; so submits are spaced `1/tps` apart *and* the last `tps` send times are
kept, so that no window of one second ever holds more than `tps`.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

# Margin on the one-second window, for the network jitter between our clock and the
# SMSC's: costs 0.2 % of the rate, saves throttling answers.
_WINDOW = 1.002
# The same for an account's cap over several sessions: the SMSC reads each session's
# socket in its own turn, so submits written 40 ms apart on two connections can be read
# (and counted) together; 5 % of the rate covers a read 50 ms late.
ACCOUNT_WINDOW = 1.05


class RateLimiter(Protocol):
    async def wait(self) -> None:
        """Return when one more submit may be written now."""


class Pacer:
    """`RateLimiter` for a configured TPS. Callers line up in arrival order."""

    def __init__(
        self,
        tps: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        window: float = _WINDOW,
    ) -> None:
        if tps <= 0:
            raise ValueError("tps must be positive")
        self._window = window
        self._interval = 1.0 / tps
        self._cap = max(1, math.floor(tps))
        self._sent: deque[float] = deque(maxlen=self._cap)
        self._last = -math.inf
        self._clock = clock
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            now = self._clock()
            due = self._last + self._interval
            if len(self._sent) == self._cap:
                due = max(due, self._sent[0] + self._window)
            while now < due:
                await asyncio.sleep(due - now)
                now = self._clock()
            # Keep to the schedule: a sleep always ends a little late, and counting the
            # next interval from the late wake-up would lose that much on every submit
            # (at 200 TPS, 1 ms of it is 17 % of the rate). After a real pause, restart
            # from now, so idle time is not saved up into a burst.
            self._last = due if now - due < self._interval else now
            self._sent.append(now)


class Unlimited:
    """`RateLimiter` for `tps: 0`: the window alone limits the rate."""

    async def wait(self) -> None:
        return None


class Chained:
    """`RateLimiter` that waits for each of its limiters in turn: a session's own share,
    then the account's cap over all its sessions (carriers count per account too)."""

    def __init__(self, *limiters: RateLimiter) -> None:
        self._limiters = limiters

    async def wait(self) -> None:
        for limiter in self._limiters:
            await limiter.wait()


def limiter_for(tps: float, *, window: float = _WINDOW) -> RateLimiter:
    return Pacer(tps, window=window) if tps > 0 else Unlimited()
