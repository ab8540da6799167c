"""Status outbox → `{prefix}/{agency}/status`, in order, at least once.

Statuses are written by the store in the same transaction as the change they report;
this loop publishes them (QoS 1) and deletes them only after the broker has them. A crash
in between publishes some twice, never none: consumers key on `id` + `state`.

Each agency's topic is one stream, published in outbox order (the order the changes were
committed) by `MqttLink.publish_all`: pipelined on one connection, and, when the broker
refuses the topic or the connection drops, paused and resumed from its oldest status, so
an agency reading the last status of a message as its state never sees `delivered`
followed by `queued`. (`at` has one-second resolution: the agency cannot sort them.) A
refused agency holds only its own stream; rows are deleted up to the oldest one still
waiting, whichever agency's it is.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from datetime import tzinfo

import structlog

from gateway.domain.status_event import localised
from gateway.mqtt.link import PUBLISH_CONCURRENCY, LinkClosedError, MqttLink
from gateway.store.statuses import StatusOutbox

log = structlog.get_logger("gateway.outbound.publisher")

# Statuses read from the outbox and not yet confirmed by the broker, at most: what one
# refused agency can hold in memory before the reader waits (the rest stay in the store).
HELD_MAX = 10 * PUBLISH_CONCURRENCY
# Longest wait, seconds, for the heartbeat after this daemon's claims lapsed.
LAPSED_WAIT = 5.0


class _Progress:
    """Which outbox rows the broker has: everything up to `acked`, at least."""

    def __init__(self) -> None:
        self.acked = 0
        self._sent: deque[int] = deque()
        self._done: set[int] = set()

    @property
    def waiting(self) -> bool:
        """Some rows read are not confirmed yet."""
        return bool(self._sent)

    def sent(self, seq: int) -> None:
        self._sent.append(seq)

    def done(self, seq: int) -> None:
        self._done.add(seq)
        while self._sent and self._sent[0] in self._done:
            self._done.discard(self._sent[0])
            self.acked = self._sent.popleft()


class _Stream:
    """One agency's statuses, published in the order they were read."""

    def __init__(
        self,
        link: MqttLink,
        topic: str,
        confirmed: Callable[[int], None],
        holds: Callable[[], bool] = lambda: True,
    ) -> None:
        self.rows: deque[tuple[int, bytes]] = deque()
        self._holds = holds  # whether this daemon's claims are still its own
        self.added = asyncio.Event()
        self._link = link
        self._topic = topic
        self._confirmed = confirmed

    def put(self, seq: int, payload: bytes) -> None:
        self.rows.append((seq, payload))
        self.added.set()

    async def run(self) -> None:
        """Until cancelled, or until the link closes."""
        with contextlib.suppress(LinkClosedError):
            while True:
                await self.added.wait()
                self.added.clear()
                while self.rows:
                    if not self._holds():
                        return  # stalled past its lease: these may be another's now
                    batch = list(self.rows)
                    told = 0

                    def accepted(n: int, batch: list[tuple[int, bytes]] = batch) -> None:
                        nonlocal told
                        for seq, payload in batch[told:n]:
                            self._confirmed(seq)
                            # What the agency was told, once the broker has it: an audit
                            # trail at debug level (MOTCUA_SMS_LOG_LEVEL=debug). The number
                            # in it is masked; the log masks any other digits.
                            log.debug(
                                "status_published", topic=self._topic, payload=payload.decode()
                            )
                        told = n

                    await self._link.publish_all(
                        self._topic, [payload for _, payload in batch], qos=1, accepted=accepted
                    )
                    for _ in batch:
                        self.rows.popleft()


async def publish_statuses(
    statuses: StatusOutbox, link: MqttLink, prefix: str, tz: tzinfo | None = None
) -> None:
    """Run until cancelled. `at` goes out in `tz`, the configured zone, whichever zone
    the row was written in.

    A status the broker refuses (ACL) is not deleted: its agency's stream waits and tries
    it again (`MqttLink.publish_all`), and everything after it stays undeleted too (it
    may go out twice after a restart, never not at all). Up to HELD_MAX statuses wait in
    memory; the others wait in the outbox.

    Stalled past its lease (`Tenure`), this daemon may have had its statuses taken by
    another, which publishes them: what it holds is dropped unpublished, and read again
    after its next heartbeat (only what is still its own comes back).
    """
    while True:
        await _publish_while_held(statuses, link, prefix, tz)
        if not statuses.tenure.holds():
            await statuses.tenure.regained(LAPSED_WAIT)


async def _publish_while_held(
    statuses: StatusOutbox, link: MqttLink, prefix: str, tz: tzinfo | None
) -> None:
    """Publish until this daemon's claims lapse (or until cancelled)."""
    tenure = statuses.tenure
    began = tenure.clock()  # what this round reads is held while `held_since(began)`
    room = asyncio.Semaphore(HELD_MAX)
    progress = _Progress()
    deleted = 0
    streams: dict[str, _Stream] = {}
    tasks: list[asyncio.Task[None]] = []

    def confirmed(seq: int) -> None:
        progress.done(seq)
        room.release()

    async def clear() -> None:
        nonlocal deleted
        if progress.acked > deleted:
            deleted = progress.acked
            await statuses.published(deleted)

    def held() -> bool:
        return tenure.held_since(began)

    async def read() -> None:
        after = 0
        while True:
            await clear()
            statuses.added.clear()
            rows = await statuses.pending(PUBLISH_CONCURRENCY, after=after)
            if not tenure.held_since(began):
                return  # its claims lapsed: what it holds may be another daemon's now
            if not rows:
                with contextlib.suppress(TimeoutError):
                    wait = 0.05 if progress.waiting else 5.0
                    await asyncio.wait_for(statuses.added.wait(), wait)
                continue
            for seq, agency, payload in rows:
                await room.acquire()
                progress.sent(seq)
                # Replies to MOs that concern no dossier (help, not found) belong to no
                # agency: there is no status topic to tell.
                if not agency:
                    confirmed(seq)
                    continue
                stream = streams.get(agency)
                if stream is None:
                    topic = f"{prefix}/{agency}/status"
                    stream = streams[agency] = _Stream(link, topic, confirmed, held)
                    tasks.append(asyncio.create_task(stream.run(), name=f"status[{agency}]"))
                text = payload if tz is None else localised(payload, tz)
                stream.put(seq, text.encode())
            after = rows[-1][0]

    reading = asyncio.create_task(read(), name="status.read")
    watching = asyncio.create_task(tenure.lapsed(began), name="status.tenure")
    try:
        await asyncio.wait([reading, watching], return_when=asyncio.FIRST_COMPLETED)
        if reading.done():
            reading.result()  # the store failed: the part ends, as before
    finally:
        for task in [reading, watching, *tasks]:
            task.cancel()
        await asyncio.gather(reading, watching, *tasks, return_exceptions=True)
    await clear()  # what the broker has is published, whoever holds it now
