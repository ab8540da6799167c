"""MQTT work → store: dossier events into the mirror (and notices), SMS jobs into the outbox.

A batch of messages is decided in memory and committed in one transaction; only then
are its MQTT messages acknowledged. Idempotency lives here: a repeated `event_id` or
job `id` — a redelivery after a crash, or the agency sending twice — changes nothing
and sends nothing; it is counted, and logged when the id came back with other content
(gateway/repeats.py). A payload that cannot be used is answered with a `rejected` status
naming the field, and acknowledged: a poison message must not block the queue.
"""

from __future__ import annotations

import dataclasses
import json
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from gateway.compose.composer import Composer, refused_for_phone
from gateway.domain.dossier import DossierKey, DossierRow
from gateway.domain.letter import NewLetter
from gateway.domain.message import NewMessage
from gateway.domain.mirror import apply_event, dossier_key, notice_decided
from gateway.domain.notice import TemplateError
from gateway.domain.states import MessageState
from gateway.domain.status_event import status_event
from gateway.intake.jobtext import job_text, placeholders
from gateway.intake.payloads import (
    MAX_ID,
    DossierEvent,
    Rejection,
    SmsJob,
    parse_dossier,
    parse_sms,
    parse_topic,
)
from gateway.intake.repeats import Repeats, digest
from gateway.settings.agencies import AgencyConfig
from gateway.store.dossiers import Dossiers
from gateway.store.outbox import Outbox
from gateway.store.schema import StoreUnavailable

log = structlog.get_logger("gateway.intake.consumer")


# Errors that mean the store cannot write at all (a full disk, a read-only file system,
# a locked database), as opposed to one item it cannot take: the batch is retried whole.
STORE_UNAVAILABLE: tuple[type[BaseException], ...] = (StoreUnavailable, OSError)

Parsed = DossierEvent | SmsJob | Rejection | None


@dataclass(slots=True)
class _Effects:
    """What one batch changes, as `Dossiers.record_intake` takes it."""

    events: list[tuple[str, str, str, bool, str | None]] = field(default_factory=list)
    # Every row the mirror passed through, in order, not only each dossier's last: the
    # figures count transitions (received, first resolved), the same however batched.
    dossiers: list[DossierRow] = field(default_factory=list)
    messages: list[NewMessage] = field(default_factory=list)
    statuses: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # E-mail copies of the notices and jobs above (a copy, never in their place).
    letters: list[NewLetter] = field(default_factory=list)

    def as_kwargs(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "dossiers": self.dossiers,
            "messages": self.messages,
            "statuses": self.statuses,
            "letters": self.letters,
        }


@dataclass(frozen=True, slots=True)
class Received:
    topic: str
    payload: bytes
    dropped: int = 0  # payload bytes not kept on arrival (oversize); see MqttLink


@dataclass(frozen=True, slots=True)
class IntakeSettings:
    """What intake reads of the configuration (built by the composition root)."""

    agencies: Mapping[str, AgencyConfig]  # who may send, their notices and templates
    topic_prefix: str  # `mqtt.topic_prefix`: `{prefix}/{agency}/dossier|sms`
    tz: ZoneInfo  # the office's zone: dates in payloads, `at` in rejections


class Intake:
    """Reads the mirror's dossiers and events (`dossiers`) and the outbox's job ids
    (`outbox`), and commits a batch's effects through `dossiers.record_intake`."""

    def __init__(
        self, dossiers: Dossiers, outbox: Outbox, composer: Composer, settings: IntakeSettings
    ) -> None:
        self._dossiers = dossiers
        self._outbox = outbox
        self._composer = composer
        self._settings = settings
        self.repeats = Repeats()  # repeated ids, for /metrics
        # The owed notices of the batch being decided that have their e-mail copy already.
        self._copied: set[tuple[str, str, str]] = set()

    def reconfigure(self, settings: IntakeSettings) -> None:
        """Take a reloaded configuration (SIGHUP): the agencies and their templates."""
        self._settings = settings

    async def process(self, batch: Sequence[Received]) -> None:
        """Decide and commit one batch (the `Batcher` commit function).

        One bad item never holds up the others. An unexpected error while deciding an
        item refuses that item alone. A commit that fails for a reason other than the
        store being unavailable (a value the database cannot take) is tried again item
        by item, so that only the item that cannot be stored is refused. A store that
        cannot write at all (disk full) raises, and the caller retries the whole batch.
        """
        parsed = [self._parse_safely(item) for item in batch]
        effects = await self._decide(parsed)
        try:
            await self._dossiers.record_intake(**effects.as_kwargs())
        except STORE_UNAVAILABLE:
            raise
        except Exception as exc:
            if len(batch) > 1:
                log.error("intake_batch_refused", error=type(exc).__name__, items=len(batch))
                for item in batch:
                    await self.process([item])
                return
            refused = _unexpected(parsed[0], batch[0], exc)
            await self._dossiers.record_intake(
                statuses=[_rejection_status(refused, self._settings.tz)]
            )

    async def _decide(self, parsed: Sequence[Parsed]) -> _Effects:
        events = [p for p in parsed if isinstance(p, DossierEvent)]
        jobs = [p for p in parsed if isinstance(p, SmsJob)]
        seen = await self._dossiers.event_digests([(e.agency, e.event_id) for e in events])
        held = await self._dossiers.dossiers(list({dossier_key(e) for e in events}))
        refs = await self._outbox.ref_digests([(j.agency, j.id) for j in jobs])
        owed = [(r.agency, r.receipt_no, r.notice_owed) for r in held.values() if r.notice_owed]
        self._copied = await self._dossiers.copied(owed)

        effects = _Effects()
        for item in parsed:
            try:
                if isinstance(item, DossierEvent):
                    self._event(item, seen, held, effects)
                elif isinstance(item, SmsJob):
                    content = digest(item)
                    if (item.agency, item.id) in refs:
                        self.repeats.seen("job", item.agency, refs[(item.agency, item.id)], content)
                        continue
                    message, copy = self._job(item)
                    refs[(item.agency, item.id)] = content
                    effects.messages.append(dataclasses.replace(message, digest=content))
                    if copy is not None:
                        effects.letters.append(copy)
                elif isinstance(item, Rejection):
                    effects.statuses.append(_rejection_status(item, self._settings.tz))
            except Exception as exc:
                # A bug met by one payload: that payload is refused, the batch goes on.
                _log_unexpected(exc)
                refused = _unexpected(item, None, exc)
                effects.statuses.append(_rejection_status(refused, self._settings.tz))
        return effects

    def _event(
        self,
        item: DossierEvent,
        seen: dict[tuple[str, str], str | None],
        held: dict[DossierKey, DossierRow],
        effects: _Effects,
    ) -> None:
        """One dossier event's effects, added to `effects` only once all are decided."""
        content = digest(item)
        if (item.agency, item.event_id) in seen:
            self.repeats.seen("event", item.agency, seen[(item.agency, item.event_id)], content)
            return
        key = dossier_key(item)
        prior = held.get(key)
        change = apply_event(prior, item, self._settings.tz)
        message = copy = None
        row = change.row
        if row is not None and change.notice is not None:
            message = self._notice(change.notice, row, item)
            if message is not None and message.state is not MessageState.SKIPPED:
                copy = self._notice_letter(change.notice, row, item, message.ref)
            notice = (row.agency, row.receipt_no, change.notice)
            again = prior is not None and prior.notice_owed == change.notice
            if again and prior.status == row.status and notice in self._copied:
                copy = None  # sent again once its number was fixed: its copy went before
            elif copy is not None and copy.state is MessageState.QUEUED:
                self._copied.add(notice)
            wants_phone = message is not None and refused_for_phone(message)
            row = notice_decided(row, change.notice, wants_phone=wants_phone)
        seen[(item.agency, item.event_id)] = content
        effects.events.append((item.event_id, item.agency, key[1], change.applied, content))
        if row is None:
            return
        held[key] = row
        effects.dossiers.append(row)
        if message is not None:
            effects.messages.append(message)
        if copy is not None:
            effects.letters.append(copy)

    def _notice_letter(
        self, kind: str, row: DossierRow, event: DossierEvent, ref: str
    ) -> NewLetter | None:
        """The e-mail copy of the notice `ref`, when the event names an address: made
        whatever became of the notice's phone (an e-mail needs none)."""
        if event.email is None:
            return None
        return self._composer.notice_letter(
            kind, row, event_id=event.event_id, ref=ref, address=event.email
        )

    def _parse_safely(self, item: Received) -> Parsed:
        """`_parse`, and a refusal of this item alone should it raise (a bug: the parsers
        are written never to)."""
        try:
            return self._parse(item)
        except Exception as exc:
            _log_unexpected(exc)
            return _unexpected(None, item, exc)

    def _parse(self, item: Received) -> DossierEvent | SmsJob | Rejection | None:
        where = parse_topic(item.topic, self._settings.topic_prefix)
        if where is None:
            return None
        agency, kind = where
        known = self._settings.agencies
        size = len(item.payload) + item.dropped
        if kind == "dossier":
            return parse_dossier(
                item.payload,
                topic_agency=agency,
                agencies=known,
                tz=self._settings.tz,
                size=size,
            )
        return parse_sms(
            item.payload,
            size=size,
            topic_agency=agency,
            agencies=known,
            templates=lambda name: placeholders(known, agency, name),
        )

    def _notice(self, kind: str, row: DossierRow, event: DossierEvent) -> NewMessage | None:
        agency = self._settings.agencies[row.agency]
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

    def _job(self, job: SmsJob) -> tuple[NewMessage, NewLetter | None]:
        """The job's SMS, and its e-mail copy when the job names an address (a job whose
        template cannot be filled is refused whole: there are no words to copy)."""
        try:
            text = job_text(job, self._settings.agencies[job.agency])
        except TemplateError as exc:
            refused = self._composer.rejected(
                job.agency, ref=job.id, kind="sms", reason=f"params: {exc}"
            )
            return refused, None
        message = self._composer.text(job.agency, ref=job.id, kind="sms", to=job.to, text=text)
        copy = None
        if job.email is not None:
            copy = self._composer.text_letter(
                job.agency, ref=job.id, kind="sms", text=text, address=job.email
            )
        return message, copy


def _log_unexpected(exc: BaseException) -> None:
    """The error's type and where it was raised, not its text nor the traceback's lines,
    which may quote a payload (phone numbers, message bodies)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else None
    log.error("intake_item_failed", error=type(exc).__name__, where=where)


def _unexpected(item: Parsed, received: Received | None, exc: BaseException) -> Rejection:
    """A refusal for an item that met an unexpected error: the error's type only (its
    text might quote the payload, which may hold a phone number)."""
    reason = f"payload: could not be processed ({type(exc).__name__}); nothing was queued"
    if isinstance(item, DossierEvent):
        return Rejection(
            kind="dossier", agency=item.agency, ref=item.event_id,
            receipt_no=item.receipt_no, field="payload", reason=reason,
        )  # fmt: skip
    if isinstance(item, SmsJob):
        return Rejection(
            kind="sms", agency=item.agency, ref=item.id, receipt_no=None,
            field="payload", reason=reason,
        )  # fmt: skip
    if isinstance(item, Rejection):
        return item
    agency, kind, ref = None, "sms", None
    if received is not None:
        where = received.topic.split("/")
        agency, kind = (where[-2], where[-1]) if len(where) >= 2 else (None, kind)
        ref = _peek_ref(received.payload, "event_id" if kind == "dossier" else "id")
    return Rejection(
        kind=kind, agency=agency, ref=ref, receipt_no=None, field="payload", reason=reason
    )


def _peek_ref(payload: bytes, key: str) -> str | None:
    """The payload's id, if it can be read at all, so that its sender can tell which
    message was refused."""
    try:
        value = json.loads(payload).get(key)
    except (ValueError, AttributeError, RecursionError):
        return None
    return value if isinstance(value, str) and len(value) <= MAX_ID else None


def _rejection_status(rej: Rejection, tz: tzinfo) -> tuple[str, dict[str, Any]]:
    event = status_event(
        ref=rej.ref,
        event_id=rej.ref if rej.kind == "dossier" else None,
        receipt_no=rej.receipt_no,
        kind=rej.kind,
        phone=None,
        state=MessageState.REJECTED,
        reason=rej.reason,
        segments=0,
        at=time.time(),
        tz=tz,
    )
    return rej.agency or "", event
