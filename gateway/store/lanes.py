"""The store's thread, and the lane a citizen waiting for an answer goes in.

The store has one connection on one thread, and every part of the daemon queues its
transactions there: under a full MT load that queue holds intake's batches, the
senders' outcomes and fetches, receipts and the status publisher's reads, each some
milliseconds. An MCKH lookup makes three calls through it (the dossier read, the MO and
its reply written, the reply fetched to be sent); behind that queue each waited for all
of it, and the citizen, who pays for the answer, waited a few hundred milliseconds.

So the thread serves two lanes: a call made while `urgent()` is in force (in the task
that made it, `contextvars` being per task) goes before every ordinary call queued, and
within a lane calls keep their order. The transaction running is never interrupted: an
urgent call waits at most for the one under way. Only what a waiting citizen needs is
urgent, few and small, so the ordinary lane is never starved.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_URGENT: ContextVar[bool] = ContextVar("store_urgent", default=False)

_URGENT_LANE, _ORDINARY_LANE, _STOP_LANE = 0, 1, 2


@contextmanager
def urgent() -> Iterator[None]:
    """Store calls made in this block (and by tasks created in it) go first."""
    token = _URGENT.set(True)
    try:
        yield
    finally:
        _URGENT.reset(token)


class StoreThread(Executor):
    """One thread running the calls handed to it, urgent ones first (`urgent`), each
    lane in the order its calls came: what `ThreadPoolExecutor(max_workers=1)` was, with
    a second lane."""

    def __init__(self, name: str = "store_0") -> None:
        self._queue: queue.PriorityQueue[tuple[int, int, Any]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._closed = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        lane = _URGENT_LANE if _URGENT.get() else _ORDINARY_LANE
        with self._lock:
            if self._closed:
                raise RuntimeError("the store's thread is shut down")
            self._queue.put((lane, next(self._order), (future, fn, args, kwargs)))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop taking calls; those queued still run (as ThreadPoolExecutor's do)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._queue.put((_STOP_LANE, next(self._order), None))
        if wait and threading.current_thread() is not self._thread:
            self._thread.join()

    def _work(self) -> None:
        while True:
            _lane, _order, call = self._queue.get()
            if call is None:
                return
            future, fn, args, kwargs = call
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)
