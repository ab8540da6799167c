"""The dossier mirror's one rule: how an event changes what we hold about a dossier.

Pure, so the ordering rules can be read and tested in one place: an event older than the
state held is recorded but changes nothing, except that a finish it reports earlier than
the one held becomes the first finish; a status *entered* (not repeated) may call
for a notice, and a repeated one calls again for the notice its entry owes when that was
refused for want of a usable phone and the event brings a number; the day a dossier
first reached a finished status (`result_ready`, `returned`, `rejected`, `withdrawn`) is
kept, the earliest of those seen in whatever order they arrive, because its timeliness is
judged by that day however late the citizen asks.

An event that leaves out the phone or the procedure code keeps the one held.

A dossier is one agency's: receipt numbers are unique within an agency only, so the
mirror holds a dossier under (agency, receipt key), and an event applies only to the
same agency's dossier (it may keep that dossier's phone, never borrow another's).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from gateway.domain.dossier import FINISHED_STATUSES, STATUS_TRIGGERS, DossierKey, DossierRow


class DossierEvent(Protocol):
    """What the mirror reads of a dossier event (intake's checked and typed payload):
    the domain states the fields it needs and imports nothing from intake."""

    @property
    def receipt_no(self) -> str: ...
    @property
    def agency(self) -> str: ...
    @property
    def procedure(self) -> str: ...
    @property
    def procedure_code(self) -> str | None: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def step(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def due_date(self) -> date | None: ...
    @property
    def same_day(self) -> bool: ...
    @property
    def occurred_at(self) -> datetime: ...


def receipt_key(receipt_no: str) -> str:
    """Both receipt forms, any case, one key: MCKH lookups type them every which way."""
    return receipt_no.strip().upper()


def dossier_key(event: DossierEvent) -> DossierKey:
    """Where the mirror holds the dossier an event is about."""
    return (event.agency, receipt_key(event.receipt_no))


@dataclass(frozen=True, slots=True)
class Change:
    row: DossierRow | None  # the new state, or None when the event changes nothing
    notice: str | None  # the notice kind the transition calls for, if any
    applied: bool = True  # the event is now the dossier's state (not only its first finish)


def first_finish(held: str | None, event: DossierEvent, tz: ZoneInfo) -> str | None:
    """The first-finish day (ISO) once `event` is seen: the earlier of the day held and the
    event's own day if it reports a finish."""
    if event.status not in FINISHED_STATUSES:
        return held
    day = event.occurred_at.astimezone(tz).date().isoformat()
    return day if held is None or day < held else held


def apply_event(held: DossierRow | None, event: DossierEvent, tz: ZoneInfo) -> Change:
    """`held` is the mirror's row under `dossier_key(event)`, or None."""
    if held is not None and held.key != dossier_key(event):
        raise ValueError(f"event for {dossier_key(event)} applied to dossier {held.key}")
    occurred = event.occurred_at
    finished_on = first_finish(held.finished_on if held else None, event, tz)
    if held is not None and occurred < datetime.fromisoformat(held.occurred_at):
        if finished_on == held.finished_on:
            return Change(row=None, notice=None, applied=False)
        return Change(row=replace(held, finished_on=finished_on), notice=None, applied=False)
    entered = held is None or held.status != event.status
    row = DossierRow(
        receipt_key=receipt_key(event.receipt_no),
        receipt_no=event.receipt_no,
        agency=event.agency,
        procedure=event.procedure,
        # An event that omits the code keeps the one held, as it keeps the phone: the
        # figures key a procedure by its code, and a dossier must not change procedure
        # because one event left the code out.
        procedure_code=event.procedure_code or (held.procedure_code if held else None),
        phone=event.phone or (held.phone if held else None),
        step=event.step,
        status=event.status,
        due_date=event.due_date.isoformat() if event.due_date else (held and held.due_date),
        same_day=event.same_day,
        occurred_at=occurred.isoformat(),
        finished_on=finished_on,
        notice_owed=None if entered else held.notice_owed if held else None,
    )
    if entered:
        notice = STATUS_TRIGGERS.get(event.status)
    elif event.phone is not None:
        notice = row.notice_owed  # the desk may have fixed the number
    else:
        notice = None
    return Change(row=row, notice=notice)


def notice_decided(row: DossierRow, kind: str, *, wants_phone: bool) -> DossierRow:
    """`row` once the notice `kind` its change called for was decided: still owed if it was
    refused for want of a usable phone, settled otherwise (queued, skipped, not sent by
    this agency, refused for another reason), so that it is never sent twice."""
    return replace(row, notice_owed=kind if wants_phone else None)
