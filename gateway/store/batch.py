"""Group commit: many concurrent writers, one transaction per batch.

Each `await batcher.put(item)` returns once the batch holding `item` has been committed
(or raises what the commit raised), so a caller can acknowledge its MQTT message or
answer its deliver_sm right after. Batches close at `max_items` or `max_wait` seconds
after their first item, whichever comes first.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import structlog

from gateway.backoff import Backoff

T = TypeVar("T")

log = structlog.get_logger("gateway.store.batch")

# Back-off between attempts to commit while the store refuses writes, seconds.
RETRY_MIN = 0.1
RETRY_MAX = 5.0


class Batcher(Generic[T]):
    def __init__(
        self,
        commit: Callable[[Sequence[T]], Awaitable[None]],
        *,
        max_items: int = 100,
        max_wait: float = 0.01,
    ) -> None:
        self._commit = commit
        self._max_items = max_items
        self._max_wait = max_wait
        self._queue: asyncio.Queue[tuple[T, asyncio.Future[None]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    async def __aenter__(self) -> Batcher[T]:
        self._task = asyncio.create_task(self._run(), name="batcher")
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        while not self._queue.empty():  # nobody waits in vain
            _item, fut = self._queue.get_nowait()
            if not fut.done():
                fut.set_exception(ConnectionAbortedError("store closed before commit"))

    async def put(self, item: T) -> None:
        if self._closed:
            raise ConnectionAbortedError("store closed")
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put((item, fut))
        await fut

    async def put_until_stored(self, item: T, *, event: str, **fields: Any) -> None:
        """`put`, again and again with back-off while commits fail (a full disk, a
        read-only file system). The caller keeps hold of `item` meanwhile: an MQTT message
        stays unacknowledged, a sent message keeps its window slot so it is not sent again.
        """
        retries = Backoff(RETRY_MIN, RETRY_MAX, jitter=False)
        failures = 0
        while True:
            try:
                await self.put(item)
                return
            except ConnectionAbortedError:
                raise  # closing: there is no store to wait for any more
            except Exception as exc:
                delay = retries.delay(failures)
                failures += 1
                log.error(event, error=str(exc), retry_in=delay, **fields)
                await asyncio.sleep(delay)

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            try:
                await self._fill(batch)
                await self._commit([item for item, _ in batch])
            except asyncio.CancelledError:
                # Closing: whoever waits on this batch hears so rather than waits forever
                # (the commit may or may not have landed; callers treat it as not).
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(ConnectionAbortedError("store closed during commit"))
                raise
            except Exception as exc:
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
            else:
                for _, fut in batch:
                    if not fut.done():
                        fut.set_result(None)

    async def _fill(self, batch: list[tuple[T, asyncio.Future[None]]]) -> None:
        """Add to `batch` what arrives until it is full or its first item has waited
        `max_wait`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._max_wait
        while len(batch) < self._max_items:
            if not self._queue.empty():
                batch.append(self._queue.get_nowait())
                continue
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for drops a cancel that
            # lands in the step where the item arrives, and close() then waits for ever.
            try:
                async with asyncio.timeout(remaining):
                    batch.append(await self._queue.get())
            except TimeoutError:
                return
