"""MQTT work → store: dossier events into the mirror (and notices), SMS jobs into the outbox.

A batch of messages is decided in memory and committed in one transaction; only then
are its MQTT messages acknowledged. Idempotency lives here: a repeated `event_id` or
job `id` — a redelivery after a crash, or the agency sending twice — changes nothing
and sends nothing. A payload that cannot be used is answered with a `rejected` status
naming the field, and acknowledged: a poison message must not block the queue.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from gateway.batch import Batcher
from gateway.composer import Composer
from gateway.config import Config
from gateway.mirror import apply_event, dossier_key
from gateway.mqtt import MqttLink
from gateway.notices import TemplateError, render, template_for
from gateway.payloads import DossierEvent, Rejection, SmsJob, parse_dossier, parse_sms, parse_topic
from gateway.status import status_event
from gateway.store import DossierKey, DossierRow, NewMessage, Store

log = structlog.get_logger("gateway.intake")


@dataclass(frozen=True, slots=True)
class Received:
    topic: str
    payload: bytes
    dropped: int = 0  # payload bytes not kept on arrival (oversize); see MqttLink


class Intake:
    def __init__(self, store: Store, composer: Composer, config: Config) -> None:
        self._store = store
        self._composer = composer
        self._config = config

    def reconfigure(self, config: Config) -> None:
        """Take a reloaded configuration (SIGHUP): agencies, templates, keywords."""
        self._config = config

    async def process(self, batch: Sequence[Received]) -> None:
        """Decide and commit one batch (the `Batcher` commit function)."""
        parsed = [self._parse(item) for item in batch]
        events = [p for p in parsed if isinstance(p, DossierEvent)]
        jobs = [p for p in parsed if isinstance(p, SmsJob)]
        seen = await self._store.seen_events([(e.agency, e.event_id) for e in events])
        held = await self._store.dossiers(list({dossier_key(e) for e in events}))
        refs = await self._store.existing_refs([(j.agency, j.id) for j in jobs])

        event_rows: list[tuple[str, str, str, bool]] = []
        dossiers: dict[DossierKey, DossierRow] = {}
        messages: list[NewMessage] = []
        statuses: list[tuple[str, dict[str, Any]]] = []
        for item in parsed:
            if isinstance(item, DossierEvent):
                if (item.agency, item.event_id) in seen:
                    continue
                seen.add((item.agency, item.event_id))
                key = dossier_key(item)
                change = apply_event(held.get(key), item, self._config.tz)
                event_rows.append((item.event_id, item.agency, key[1], change.row is not None))
                if change.row is None:
                    continue
                held[key] = dossiers[key] = change.row
                if change.notice is not None:
                    message = self._notice(change.notice, change.row, item)
                    if message is not None:
                        messages.append(message)
            elif isinstance(item, SmsJob):
                if (item.agency, item.id) in refs:
                    continue
                refs.add((item.agency, item.id))
                messages.append(self._job(item))
            elif isinstance(item, Rejection):
                statuses.append(_rejection_status(item))
        await self._store.record_intake(
            events=event_rows, dossiers=dossiers.values(), messages=messages, statuses=statuses
        )

    def _parse(self, item: Received) -> DossierEvent | SmsJob | Rejection | None:
        where = parse_topic(item.topic, self._config.mqtt.topic_prefix)
        if where is None:
            return None
        agency, kind = where
        known = self._config.agencies
        size = len(item.payload) + item.dropped
        if kind == "dossier":
            return parse_dossier(
                item.payload,
                topic_agency=agency,
                agencies=known,
                tz=self._config.tz,
                size=size,
            )
        return parse_sms(
            item.payload,
            size=size,
            topic_agency=agency,
            agencies=known,
            templates=lambda name: _has_template(self._config, agency, name),
        )

    def _notice(self, kind: str, row: DossierRow, event: DossierEvent) -> NewMessage | None:
        agency = self._config.agencies[row.agency]
        if kind not in agency.notices:
            return None
        ref = f"{event.event_id}:{kind}"
        if event.same_day and agency.skip_same_day:
            return self._composer.skipped(
                kind,
                row,
                event_id=event.event_id,
                ref=ref,
                reason="same_day: procedure resolved the same day; agency skips these",
            )
        return self._composer.notice(kind, row, event_id=event.event_id, ref=ref)

    def _job(self, job: SmsJob) -> NewMessage:
        text = job.text
        if text is None:
            agency = self._config.agencies[job.agency]
            try:
                text = render(
                    template_for(job.template or "", agency.templates),
                    strip=False,
                    **dict(job.params),
                )
            except TemplateError as exc:
                return self._composer.rejected(
                    job.agency, ref=job.id, kind="sms", reason=f"params: {exc}"
                )
        return self._composer.text(job.agency, ref=job.id, kind="sms", to=job.to, text=text)


def _has_template(config: Config, agency: str, name: str) -> bool:
    try:
        template_for(name, config.agencies[agency].templates)
    except (TemplateError, KeyError):
        return False
    return True


def _rejection_status(rej: Rejection) -> tuple[str, dict[str, Any]]:
    event = status_event(
        ref=rej.ref,
        event_id=rej.ref if rej.kind == "dossier" else None,
        receipt_no=rej.receipt_no,
        kind=rej.kind,
        phone=None,
        state="rejected",
        reason=rej.reason,
        segments=0,
        at=time.time(),
    )
    return rej.agency or "", event


async def serve(link: MqttLink, intake: Intake) -> None:
    """Read MQTT messages until cancelled; ack each one after its batch is committed."""
    # The link stops reading at this many unacknowledged; this bounds intake's own tasks
    # even so, should the link ever hand over more.
    room = asyncio.Semaphore(link.settings.receive_maximum)
    tasks: set[asyncio.Task[None]] = set()
    async with Batcher(intake.process) as batcher:

        async def one(message: Any) -> None:
            try:
                # Not committed, not acknowledged: tried again rather than left to the
                # broker, which redelivers only after a reconnect. Intake stalls while
                # the disk refuses writes; nothing is lost.
                await batcher.put_until_stored(
                    Received(message.topic, message.payload, message.dropped),
                    event="intake_commit_failed",
                    topic=message.topic,
                )
                await link.ack(message)
            finally:
                room.release()

        try:
            async for message in link.messages():
                await room.acquire()
                task = asyncio.create_task(one(message))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        finally:
            for task in list(tasks):
                task.cancel()
