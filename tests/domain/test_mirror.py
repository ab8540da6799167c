"""The mirror's rule: how an event changes the dossier held (pure, no I/O)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from gateway.domain.dossier import DossierRow
from gateway.domain.mirror import apply_event, dossier_key
from gateway.intake.payloads import DossierEvent

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def event(
    status: str,
    day: int,
    *,
    agency: str = "SCT",
    phone: str | None = "0905123456",
    code: str | None = None,
) -> DossierEvent:
    return DossierEvent(
        event_id=f"{agency}-{status}-{day}",
        receipt_no="000123",
        agency=agency,
        procedure="Cấp phép",
        procedure_code=code,
        phone=phone,
        step="Bước",
        status=status,
        due_date=date(2026, 11, 25),
        same_day=False,
        occurred_at=datetime(2026, 11, day, 16, 0, tzinfo=TZ),
    )


def follow(*events: DossierEvent) -> DossierRow:
    held = None
    for e in events:
        change = apply_event(held, e, TZ)
        held = change.row or held
    assert held is not None
    return held


@pytest.mark.parametrize("status", ["result_ready", "returned", "rejected", "withdrawn"])
def test_day_a_dossier_first_finishes_is_kept_whatever_the_finish(status):
    """Straight to returned, or rejected or withdrawn early: the day is kept, so the
    dossier is judged by it and not by the day someone asks."""
    held = follow(event("processing", 20), event(status, 22))

    assert held.finished_on == "2026-11-22"


def test_later_finished_statuses_keep_the_first_finish_day():
    held = follow(event("result_ready", 22), event("returned", 27))

    assert held.finished_on == "2026-11-22"


def test_open_dossier_has_no_finish_day():
    assert follow(event("received", 20), event("processing", 21)).finished_on is None


def test_finish_day_is_the_agencys_calendar_day():
    """17:30 UTC on the 22nd is already the 23rd in Ho Chi Minh City."""
    late = _with(event("returned", 22), occurred_at=datetime(2026, 11, 22, 17, 30, tzinfo=UTC))

    assert follow(late).finished_on == "2026-11-23"


def test_an_event_without_a_procedure_code_keeps_the_code_held():
    held = follow(event("received", 20, code="1.001"), event("result_ready", 22))

    assert held.procedure_code == "1.001"


def test_an_event_with_another_procedure_code_takes_it():
    held = follow(event("received", 20, code="1.001"), event("result_ready", 22, code="1.002"))

    assert held.procedure_code == "1.002"


def test_event_keeps_the_phone_of_its_own_dossier():
    held = follow(event("processing", 20), event("result_ready", 22, phone=None))

    assert held.phone == "0905123456"


def test_event_is_never_applied_to_another_agencys_dossier():
    """Receipt numbers are unique within one agency: STP's 000123 is not SCT's."""
    sct = follow(event("processing", 20))

    with pytest.raises(ValueError, match="STP"):
        apply_event(sct, event("result_ready", 22, agency="STP", phone=None), TZ)


def test_dossier_key_is_agency_and_folded_receipt_number():
    assert dossier_key(_with(event("received", 20), receipt_no=" ab-1 ")) == ("SCT", "AB-1")


def _fields(e: DossierEvent) -> dict[str, object]:
    return {name: getattr(e, name) for name in DossierEvent.__dataclass_fields__}


def _with(e: DossierEvent, **changes: object) -> DossierEvent:
    return DossierEvent(**{**_fields(e), **changes})
