"""What the senders beside SMS (Zalo, e-mail) share: the window of sends under way, and
quiet hours read on the sender's own clock.

A send holds its item's id in the window from the moment it is taken from the store until
its outcome is committed (the caller's coroutine ends there), so the store is never asked
for it again meanwhile and a crash repeats at most a window of sends. The end of a send
wakes the loop that fills the window.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from gateway.calendar.workdays import QuietHours


class InFlight:
    """At most `limit` sends under way, each an asyncio task named `name[id]`."""

    def __init__(self, limit: int, name: str) -> None:
        if limit < 1:
            raise ValueError(f"window must be at least 1, got {limit}")
        self._limit = limit
        self._name = name
        self.busy: set[int] = set()  # the ids under way, left out of the store's reads
        self._tasks: set[asyncio.Task[None]] = set()
        self._ended = asyncio.Event()

    @property
    def free(self) -> int:
        return self._limit - len(self.busy)

    def start(self, key: int, send: Coroutine[Any, Any, None]) -> None:
        """Run `send` for item `key`; the key is held until it ends, however it ends."""
        self.busy.add(key)
        task = asyncio.create_task(send, name=f"{self._name}[{key}]")
        self._tasks.add(task)
        task.add_done_callback(lambda t: self._ended_one(key, t))

    def _ended_one(self, key: int, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self.busy.discard(key)
        self._ended.set()

    def look(self) -> None:
        """The filling loop looks at the window now: `wait` returns on the next send to
        end after this (not on one that ended before)."""
        self._ended.clear()

    async def wait(self, timeout: float | None = None) -> None:
        """Until a send ends, since the last `look` (or `timeout` seconds pass)."""
        try:
            async with asyncio.timeout(timeout):
                await self._ended.wait()
        except TimeoutError:
            pass

    async def wait_until(self, at: float | None, now: float, most: float) -> None:
        """Until a send ends, `at` comes (the next item due, or None: nothing known), or
        `most` seconds pass, whichever is first: an idle sender looks again then."""
        await self.wait(most if at is None else min(most, max(0.0, at - now)))

    async def cancel(self) -> None:
        """Cancel the sends under way and wait for them to end."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class Quiet:
    """`schedule.quiet_hours` in the office's zone, on the sender's clock."""

    def __init__(
        self, hours: QuietHours | None, tz: ZoneInfo | None, clock: Callable[[], float]
    ) -> None:
        if hours is not None and tz is None:
            raise ValueError("quiet hours need the time zone they are local to")
        self._hours = hours
        self._tz = tz
        self._clock = clock

    def until(self) -> float | None:
        """When quiet hours end while they hold; None outside them (or with none)."""
        if self._hours is None or self._tz is None:
            return None
        now = datetime.fromtimestamp(self._clock(), UTC)
        if not self._hours.is_quiet(now, self._tz):
            return None
        return self._hours.release_at(now, self._tz).timestamp()


async def first_of(*events: asyncio.Event, timeout: float | None = None) -> None:
    """Return once any of `events` is set, or after `timeout` seconds."""
    if any(e.is_set() for e in events):
        return
    if len(events) == 1 and timeout is None:
        await events[0].wait()  # no task to make and cancel, on every pass of the loop
        return
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()
