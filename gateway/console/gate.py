"""The bound on the console's work in flight: store reads and the exports built from them.

Every read opens the store on a thread of its own and may scan for seconds; without a
bound one user reloading a slow page (or a script) starts as many scans as requests, and
the daemon beside the console loses the disk and the CPU to them. So per console process:

- at most `running` reads (or export builds) at once;
- at most `waiting` more queued for a slot; past that the request is refused at once with
  503 ("bận"), before anything is read;
- a request whose client has gone while it waited never starts its read (aiohttp cancels
  its handler; `LocalServer(cancel_on_disconnect=True)`);
- a request cancelled while its read runs cancels the read (the store interrupts its
  query, `Database.read`), but its slot is given back only once the read has really
  ended: a thread doing SQL is not stopped by a cancelled coroutine, and counting it free
  earlier would let the scans pile up again behind the bound.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import date
from typing import TypeVar

from gateway.console.query import Refusal
from gateway.console.reading import FigureReads
from gateway.store.figures import Dimension, FailedNotice, FigureRow

R = TypeVar("R")

BUSY = "Máy chủ đang bận: có quá nhiều yêu cầu đọc số liệu cùng lúc. Hãy thử lại sau ít phút."


class ReadGate:
    """At most `running` jobs at once and `waiting` queued; 503 beyond."""

    def __init__(self, running: int, waiting: int) -> None:
        self._slots = asyncio.Semaphore(running)
        self._waiting = 0
        self._max_waiting = waiting

    async def run(self, job: Callable[[], Awaitable[R]]) -> R:
        """`await job()` in a slot. Refusal(503) when every slot is taken and the queue
        is full; CancelledError (its job cancelled, its slot held until it ends) when the
        request goes."""
        if self._slots.locked() and self._waiting >= self._max_waiting:
            raise Refusal(503, BUSY)
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        task = asyncio.ensure_future(job())
        task.add_done_callback(self._release)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            task.cancel()
            raise

    def _release(self, task: asyncio.Future[object]) -> None:
        self._slots.release()
        if not task.cancelled():
            task.exception()  # retrieved: a read failing after its request went is no news


class GatedFigures:
    """`FigureReads` whose every read goes through `gate`."""

    def __init__(self, figures: FigureReads, gate: ReadGate) -> None:
        self._figures = figures
        self._gate = gate

    async def table(
        self,
        since: date,
        until: date,
        by: Sequence[Dimension],
        agencies: Collection[str] | None = None,
    ) -> list[FigureRow]:
        return await self._gate.run(lambda: self._figures.table(since, until, by, agencies))

    async def failed(
        self,
        since: date,
        until: date,
        agencies: Collection[str] | None = None,
        limit: int = 500,
        offset: int = 0,
    ) -> list[FailedNotice]:
        return await self._gate.run(
            lambda: self._figures.failed(since, until, agencies, limit=limit, offset=offset)
        )
