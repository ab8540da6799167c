"""Group commit: one transaction per batch, and nothing dropped when a commit fails."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from gateway.store import batch
from gateway.store.batch import Batcher


class Disk:
    """A commit that fails `refusals` times (disk full), then works."""

    def __init__(self, refusals: int = 0) -> None:
        self.refusals = refusals
        self.batches: list[list[int]] = []

    async def commit(self, items: Sequence[int]) -> None:
        if self.refusals > 0:
            self.refusals -= 1
            raise OSError(28, "database or disk is full")
        self.batches.append(list(items))


async def test_concurrent_puts_share_one_commit():
    disk = Disk()
    async with Batcher(disk.commit, max_items=10, max_wait=0.05) as batcher:
        await asyncio.gather(*(batcher.put(n) for n in range(10)))
    assert disk.batches == [list(range(10))]


async def test_batch_closes_at_max_items():
    disk = Disk()
    async with Batcher(disk.commit, max_items=4, max_wait=10) as batcher:
        await asyncio.gather(*(batcher.put(n) for n in range(8)))
    assert [len(b) for b in disk.batches] == [4, 4]


async def test_put_raises_what_the_commit_raised():
    disk = Disk(refusals=1)
    async with Batcher(disk.commit, max_items=1) as batcher:
        with pytest.raises(OSError, match="disk is full"):
            await batcher.put(1)
    assert disk.batches == []


async def test_put_until_stored_waits_out_refusals_and_commits_once(monkeypatch):
    monkeypatch.setattr(batch, "RETRY_MIN", 0.001)
    disk = Disk(refusals=3)
    async with Batcher(disk.commit, max_items=1) as batcher:
        await batcher.put_until_stored(7, event="test_commit_failed")
    assert disk.batches == [[7]]


async def test_put_until_stored_holds_the_caller_while_writes_fail(monkeypatch):
    monkeypatch.setattr(batch, "RETRY_MIN", 0.001)
    monkeypatch.setattr(batch, "RETRY_MAX", 0.001)
    disk = Disk(refusals=10**9)
    async with Batcher(disk.commit, max_items=1) as batcher:
        put = asyncio.create_task(batcher.put_until_stored(7, event="test_commit_failed"))
        await asyncio.sleep(0.05)
        assert not put.done()
        disk.refusals = 0
        await asyncio.wait_for(put, 5)
    assert disk.batches == [[7]]


async def test_callers_waiting_at_close_are_told_not_left_waiting():
    started = asyncio.Event()
    release = asyncio.Event()

    async def slow(items: Sequence[int]) -> None:
        started.set()
        await release.wait()

    batcher = Batcher(slow, max_items=1)
    async with batcher:
        first = asyncio.create_task(batcher.put(1))
        await started.wait()
        second = asyncio.create_task(batcher.put(2))
        await asyncio.sleep(0)
    for put in (first, second):
        with pytest.raises(ConnectionAbortedError):
            await asyncio.wait_for(put, 5)


async def test_put_after_close_is_refused():
    disk = Disk()
    batcher = Batcher(disk.commit)
    async with batcher:
        pass
    with pytest.raises(ConnectionAbortedError):
        await asyncio.wait_for(batcher.put_until_stored(1, event="test_commit_failed"), 5)


@pytest.mark.timeout(10)
async def test_close_while_an_item_arrives_mid_batch_still_ends():
    """An item that completes the batcher's wait in the same loop step as the close's
    cancel: the batcher still stops (Python 3.11's wait_for swallowed that cancel, and
    closing waited for ever: a daemon deaf to SIGTERM)."""
    batcher = Batcher(Disk().commit, max_items=10, max_wait=5.0)
    async with batcher:
        first = asyncio.create_task(batcher.put(1))
        await asyncio.sleep(0.05)  # the batch is open, waiting for more
        batcher._queue.put_nowait((2, asyncio.get_running_loop().create_future()))
        assert batcher._task is not None
        batcher._task.cancel()
        await asyncio.wait({batcher._task}, timeout=2)

        assert batcher._task.done()
    with pytest.raises(ConnectionAbortedError):
        await first
