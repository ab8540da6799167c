"""The store's thread serves a waiting citizen's calls first: what is asked under
`urgent()` runs before the ordinary calls queued ahead of it, each lane in order."""

from __future__ import annotations

import asyncio
import threading

import pytest

from gateway.store.lanes import StoreThread, urgent
from gateway.store.store import Store


def held(thread: StoreThread) -> threading.Event:
    """Keep `thread` busy until the returned event is set (a transaction under way)."""
    release = threading.Event()
    thread.submit(release.wait, 10)
    return release


def test_an_urgent_call_runs_before_the_ordinary_calls_queued_ahead_of_it():
    thread = StoreThread()
    ran: list[str] = []
    release = held(thread)
    ordinary = [thread.submit(ran.append, name) for name in ("a", "b")]
    with urgent():
        first = thread.submit(ran.append, "urgent")
    release.set()
    for future in (*ordinary, first):
        future.result(5)
    thread.shutdown()
    assert ran == ["urgent", "a", "b"]


def test_calls_of_one_lane_keep_their_order():
    thread = StoreThread()
    ran: list[int] = []
    release = held(thread)
    with urgent():
        urgent_calls = [thread.submit(ran.append, n) for n in range(5)]
    ordinary = [thread.submit(ran.append, n) for n in range(5, 10)]
    release.set()
    for future in (*urgent_calls, *ordinary):
        future.result(5)
    thread.shutdown()
    assert ran == list(range(10))


def test_a_call_that_fails_hands_its_error_to_its_caller_and_the_thread_goes_on():
    thread = StoreThread()
    failing = thread.submit(int, "not a number")
    with pytest.raises(ValueError):
        failing.result(5)
    assert thread.submit(int, "7").result(5) == 7
    thread.shutdown()


def test_shutdown_runs_what_was_queued_and_refuses_what_comes_after():
    thread = StoreThread()
    release = held(thread)
    queued = thread.submit(str, 1)
    release.set()
    thread.shutdown(wait=True)
    assert queued.result(0) == "1"
    with pytest.raises(RuntimeError):
        thread.submit(str, 2)


def test_urgency_ends_with_its_block():
    thread = StoreThread()
    ran: list[str] = []
    release = held(thread)
    with urgent():
        pass
    later = thread.submit(ran.append, "ordinary")
    with urgent():
        first = thread.submit(ran.append, "urgent")
    release.set()
    later.result(5)
    first.result(5)
    thread.shutdown()
    assert ran == ["urgent", "ordinary"]


async def test_a_task_started_while_urgent_asks_the_store_urgently(tmp_path, store_location):
    """The store's own calls: a lookup made under `urgent()` (here in a task created in
    it, as the MO writer's is) is answered before a read queued ahead of it."""
    async with Store.open(store_location) as store:
        db = store.database
        order: list[str] = []
        gate = asyncio.Event()
        started = threading.Event()
        loop = asyncio.get_running_loop()

        def blocking(_conn):
            started.set()
            asyncio.run_coroutine_threadsafe(gate.wait(), loop).result(10)

        def note(_conn, name):
            order.append(name)

        busy = asyncio.create_task(db.read(blocking))
        await asyncio.to_thread(started.wait, 10)
        ordinary = asyncio.create_task(db.read(note, "ordinary"))
        await asyncio.sleep(0)
        with urgent():
            lookup = asyncio.create_task(db.read(note, "urgent"))
        await asyncio.sleep(0)
        gate.set()
        await asyncio.wait_for(asyncio.gather(busy, ordinary, lookup), 10)
    assert order == ["urgent", "ordinary"]
