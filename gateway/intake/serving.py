"""Intake's subscriptions and its loop: MQTT messages in, each acknowledged once committed.

Alone, a daemon subscribes `{prefix}/+/dossier` and `{prefix}/+/sms`. With
`mqtt.shared_group`, several daemons share one store and the broker gives each message to
one of them: `$share/<group>/{prefix}/+/dossier` and the same for `sms` (messages still
arrive on their own topics, so routing is unchanged). A daemon that is gone leaves its
session, and what it held, to the others: its will names it on the link's `gone_topic`,
and whoever hears it takes the session over (gateway/mqtt/adopt.py) and runs what comes
out through the same intake.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Coroutine
from typing import Any, Protocol

import aiomqtt
import structlog

from gateway.backoff import Backoff
from gateway.intake.consumer import Intake, Received
from gateway.mqtt.adopt import Adoption, SessionClosedError
from gateway.mqtt.connection import Inbound
from gateway.mqtt.link import MqttLink
from gateway.store.batch import Batcher

__all__ = ["intake_filters", "serve_intake"]

log = structlog.get_logger("gateway.intake.consumer")

KINDS = ("dossier", "sms")
# Seconds after a takeover's connection is closed by the broker within which a broker
# going away would have closed our link's connection too.
BROKER_GRACE = 1.0


def intake_filters(prefix: str, shared_group: str | None) -> list[str]:
    """The topic filters intake subscribes to: its own, or the group's share of them."""
    filters = [f"{prefix}/+/{kind}" for kind in KINDS]
    if shared_group is None:
        return filters
    return [f"$share/{shared_group}/{topic}" for topic in filters]


class _Acks(Protocol):
    async def ack(self, message: Inbound) -> None: ...


async def serve_intake(link: MqttLink, intake: Intake) -> None:
    """Read MQTT messages until cancelled; ack each one after its batch is committed.

    Also takes over the session of any daemon whose will arrives (shared intake), one
    takeover at a time per daemon gone, and acknowledges the will only once that session
    is empty or someone else holds it (the broker closed the takeover's connection and
    stayed up): a takeover that fails
    otherwise is tried again with back-off, and a daemon that dies while taking over
    leaves the will unacknowledged in its own session, for the next one.
    """
    # The link stops reading at this many unacknowledged; this bounds intake's own tasks
    # even so, should the link ever hand over more (a taken-over session's messages too).
    room = asyncio.Semaphore(link.settings.receive_maximum)
    tasks: set[asyncio.Task[None]] = set()
    # The will of each gone daemon whose session is being taken over, by its client id.
    wills: dict[str, Inbound] = {}

    def spawn(work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async with Batcher(intake.process) as batcher:

        async def one(source: _Acks, message: Inbound) -> None:
            try:
                # Not committed, not acknowledged: tried again rather than left to the
                # broker, which redelivers only after a reconnect. Intake stalls while
                # the disk refuses writes; nothing is lost.
                await batcher.put_until_stored(
                    Received(message.topic, message.payload, message.dropped),
                    event="intake_commit_failed",
                    topic=message.topic,
                )
                await source.ack(message)
            finally:
                room.release()

        async def take_over(gone: str) -> None:
            try:
                await empty(gone)
            except BaseException:
                wills.pop(gone, None)  # stopping: the will stays, for the next daemon
                raise
            # The latest copy of its will (one delivered again meanwhile, after the link
            # reconnected), acknowledged only now: never while the session may still
            # hold anything of the gone daemon's with nobody to take it.
            await link.ack(wills.pop(gone))

        async def empty(gone: str) -> None:
            """Until `gone`'s session is empty and ended, or someone else's."""
            # Only the shared filters: the session goes on collecting the others' wills,
            # for whoever takes it next should this daemon die in the middle.
            backoff = Backoff(link.settings.reconnect_min, link.settings.reconnect_max)
            taken, failures = 0, 0
            while True:
                adoption = Adoption(link.settings, gone, link.filters)
                try:
                    async for message in adoption.messages():
                        await route(adoption, message)
                except aiomqtt.MqttError as exc:
                    if isinstance(exc, SessionClosedError) and await broker_stayed():
                        # Back, or taken by another daemon: not ours to empty any more.
                        log.warning(
                            "mqtt_session_take_over_ended", gone=gone,
                            messages=taken + adoption.taken, reason=str(exc),
                        )  # fmt: skip
                        return
                    # Left with nobody still (the broker gone, an answer that came too
                    # late behind what the store had not committed yet): again.
                    taken += adoption.taken
                    delay = backoff.delay(failures)
                    failures += 1
                    log.warning(
                        "mqtt_session_take_over_failed", gone=gone, messages=taken,
                        reason=str(exc.__cause__ or exc), retry_in=round(delay, 2),
                    )  # fmt: skip
                    await asyncio.sleep(delay)
                    continue
                log.info(
                    "mqtt_session_taken_over", gone=gone, messages=taken + adoption.taken,
                    session_present=adoption.session_present,
                )  # fmt: skip
                return

        async def broker_stayed() -> bool:
            """Whether the broker that closed a takeover's connection is still up: then it
            closed it for another client taking the session. Our link's connection, made
            before and still up a moment later, says so; a broker gone ends that too."""
            failed_at = time.monotonic()
            await asyncio.sleep(BROKER_GRACE)
            since = link.connected_since
            return since is not None and since < failed_at

        async def route(source: _Acks, message: Inbound) -> None:
            if message.topic == link.settings.gone_topic:
                # From our link, or queued in a session taken over (another daemon's
                # will it had not acted on): acknowledged by the takeover, on `link`.
                if source is not link:
                    await source.ack(message)
                    message = dataclasses.replace(message, connection=None)
                gone = message.payload.decode("utf-8", errors="replace")
                if not gone or gone == link.settings.client_id:
                    await link.ack(message)  # this daemon is back: nothing to take
                elif gone in wills:
                    wills[gone] = message  # the takeover running acknowledges this one
                else:
                    wills[gone] = message
                    spawn(take_over(gone))
                return
            await room.acquire()
            spawn(one(source, message))

        try:
            async for message in link.messages():
                await route(link, message)
        finally:
            for task in list(tasks):
                task.cancel()
