"""Rigs for the figures' tests: dossiers and notices as intake records them, and what
the sender and the receipt tracker then commit, through the store's own repositories."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from gateway.app import composer_settings
from gateway.compose.composer import Composer
from gateway.domain.dossier import DossierRow
from gateway.domain.message import Outcome, PartResult
from gateway.store.store import Store
from tests.support.clock import Clock
from tests.support.outbox import without_quiet_hours

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PRICE = 450  # VND a segment
ALL = ("agency", "procedure", "day")


def figure_composer(clock: Clock) -> Composer:
    """The embedded agencies (SCT, STP), no quiet hours: a notice is queued at any hour."""
    return Composer(composer_settings(without_quiet_hours()), clock=clock)


def dossier(
    receipt: str = "000123",
    *,
    agency: str = "SCT",
    status: str = "received",
    code: str | None = "1.001",
    procedure: str = "Cấp giấy phép",
    phone: str | None = "0905123456",
    when: str = "2026-11-23T09:00:00+07:00",
) -> DossierRow:
    """A dossier as the mirror holds it after an event of `status` at `when`: the
    figures count by agency, procedure code (or name), status and day, so those vary."""
    return DossierRow(
        receipt_key=receipt.upper(), receipt_no=receipt, agency=agency, procedure=procedure,
        procedure_code=code, phone=phone, step="Tiếp nhận", status=status, due_date=None,
        same_day=False, occurred_at=when, finished_on=None,
    )  # fmt: skip


async def notice(store: Store, composer: Composer, row: DossierRow, ref: str) -> None:
    """The dossier as intake mirrors it, with the result notice its event called for."""
    message = composer.notice("result", row, event_id=ref, ref=ref)
    await store.dossiers.record_intake(dossiers=[row], messages=[message])


async def settle(store: Store, clock: Clock, ref: str, *receipts: str) -> None:
    """`ref` submitted in one part, then the parts' receipts (`delivered`, ...)."""
    (queued,) = [m for m in await store.outbox.due(100) if m.ref == ref]
    keys = frozenset({f"s:{ref}"})
    part = PartResult(queued.id, 1, ref, keys)
    await store.outbox.record_outcomes(
        [Outcome(queued, "submitted", 1, clock(), segments=1, parts=[part])]
    )
    for state in receipts:
        await store.receipts.record_receipts([(keys, state, None)])


async def give_up(store: Store, clock: Clock, ref: str, state: str) -> None:
    """The sender gives `ref` up (`failed`) or finds it past its TTL (`expired`)."""
    (queued,) = [m for m in await store.outbox.due(100) if m.ref == ref]
    await store.outbox.record_outcomes([Outcome(queued, state, 1, clock(), reason="gave up")])
