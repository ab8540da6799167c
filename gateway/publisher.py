"""Status outbox → `{prefix}/{agency}/status`, in order, at least once.

Statuses are written by the store in the same transaction as the change they report;
this loop publishes them (QoS 1) and deletes them only after the broker has them. A crash
in between publishes some twice, never none: consumers key on `id` + `state`.

Publishing is pipelined: up to PUBLISH_CONCURRENCY statuses await their PUBACK at once,
on one connection, so they reach the broker in outbox order; rows are deleted up to the
oldest one still waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from datetime import tzinfo

import structlog

from gateway.mqtt import PUBLISH_CONCURRENCY, MqttLink
from gateway.status import localised
from gateway.store import Store

log = structlog.get_logger("gateway.publisher")


class _Progress:
    """Which outbox rows the broker has: everything up to `acked`, at least."""

    def __init__(self) -> None:
        self.acked = 0
        self._sent: deque[int] = deque()
        self._done: set[int] = set()

    def sent(self, seq: int) -> None:
        self._sent.append(seq)

    def done(self, seq: int) -> None:
        self._done.add(seq)
        while self._sent and self._sent[0] in self._done:
            self._done.discard(self._sent[0])
            self.acked = self._sent.popleft()


async def publish_statuses(
    store: Store, link: MqttLink, prefix: str, tz: tzinfo | None = None
) -> None:
    """Run until cancelled. `at` goes out in `tz`, the configured zone, whichever zone
    the row was written in.

    A status the broker refuses (ACL) is not deleted: `MqttLink.publish` returns only
    once the broker has it, retrying with back-off, so the row waits in the outbox and
    everything after it stays undeleted too (it may go out twice after a restart, never
    not at all). While one agency's topic is refused, up to PUBLISH_CONCURRENCY of its
    statuses wait in flight and the others wait behind them in the outbox.
    """
    room = asyncio.Semaphore(PUBLISH_CONCURRENCY)
    progress = _Progress()
    deleted = 0
    after = 0
    tasks: set[asyncio.Task[None]] = set()

    async def one(seq: int, agency: str, payload: str) -> None:
        try:
            # Replies to MOs that concern no dossier (help, not found) belong to no
            # agency: there is no status topic to tell.
            if agency:
                text = payload if tz is None else localised(payload, tz)
                await link.publish(f"{prefix}/{agency}/status", text.encode(), qos=1)
            progress.done(seq)
        finally:
            room.release()

    try:
        while True:
            if progress.acked > deleted:
                deleted = progress.acked
                await store.statuses_published(deleted)
            store.status_added.clear()
            rows = await store.pending_statuses(PUBLISH_CONCURRENCY, after=after)
            if not rows:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(store.status_added.wait(), 0.05 if tasks else 5.0)
                continue
            for seq, agency, payload in rows:
                await room.acquire()
                progress.sent(seq)
                task = asyncio.create_task(one(seq, agency, payload))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            after = rows[-1][0]
    finally:
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
