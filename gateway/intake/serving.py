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
from collections.abc import Coroutine
from typing import Any, Protocol

import aiomqtt
import structlog

from gateway.intake.consumer import Intake, Received
from gateway.mqtt.adopt import Adoption
from gateway.mqtt.connection import Inbound
from gateway.mqtt.link import MqttLink
from gateway.store.batch import Batcher

__all__ = ["intake_filters", "serve_intake"]

log = structlog.get_logger("gateway.intake.consumer")

KINDS = ("dossier", "sms")


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
    session at a time per daemon gone, and acknowledges the will only once that session
    is empty or someone else holds it: a daemon that dies while taking over leaves the
    will unacknowledged in its own session, for the next one.
    """
    # The link stops reading at this many unacknowledged; this bounds intake's own tasks
    # even so, should the link ever hand over more (a taken-over session's messages too).
    room = asyncio.Semaphore(link.settings.receive_maximum)
    tasks: set[asyncio.Task[None]] = set()

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

        async def take_over(will: Inbound) -> None:
            gone = will.payload.decode("utf-8", errors="replace")
            if gone and gone != link.settings.client_id:
                # Only the shared filters: the session goes on collecting the others'
                # wills, for whoever takes it next should this daemon die in the middle.
                adoption = Adoption(link.settings, gone, link.filters)
                try:
                    async for message in adoption.messages():
                        await route(adoption, message)
                    log.info(
                        "mqtt_session_taken_over", gone=gone, messages=adoption.taken,
                        session_present=adoption.session_present,
                    )  # fmt: skip
                except aiomqtt.MqttError as exc:
                    # Back, or taken by another daemon: not ours to empty any more.
                    log.warning(
                        "mqtt_session_take_over_ended", gone=gone, messages=adoption.taken,
                        reason=str(exc.__cause__ or exc),
                    )  # fmt: skip
            await link.ack(will)

        async def route(source: _Acks, message: Inbound) -> None:
            if message.topic == link.settings.gone_topic:
                # From our link, or queued in a session taken over (another daemon's
                # will it had not acted on): acknowledged by the takeover, on `link`.
                if source is not link:
                    await source.ack(message)
                    message = dataclasses.replace(message, connection=None)
                spawn(take_over(message))
                return
            await room.acquire()
            spawn(one(source, message))

        try:
            async for message in link.messages():
                await route(link, message)
        finally:
            for task in list(tasks):
                task.cancel()
