"""A finished dossier is on time when it *first* reached a finished status on or before its
due date (SPEC, Timeliness), whatever order the events arrive in."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from zoneinfo import ZoneInfo

from gateway.domain.mirror import apply_event
from gateway.domain.timeliness import ON_TIME, timeliness
from gateway.intake.payloads import DossierEvent, parse_dossier

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def event(event_id: str, status: str, at: str) -> DossierEvent:
    body = {
        "event_id": event_id, "receipt_no": "0101701234", "agency": "SCT", "procedure": "P",
        "step": "S", "status": status, "due_date": "2026-11-25", "occurred_at": at,
    }  # fmt: skip
    parsed = parse_dossier(json.dumps(body).encode(), topic_agency="SCT", agencies={"SCT"}, tz=TZ)
    assert isinstance(parsed, DossierEvent)
    return parsed


def test_result_ready_on_time_arriving_after_a_later_returned_keeps_the_dossier_on_time():
    returned = apply_event(None, event("e2", "returned", "2026-11-27T09:00:00+07:00"), TZ).row
    first = event("e1", "result_ready", "2026-11-24T15:00:00+07:00")
    late_arrival = apply_event(returned, first, TZ)
    row = late_arrival.row or returned
    assert row is not None and row.finished_on is not None
    verdict = timeliness(
        today=date(2026, 11, 30),
        due_date=date(2026, 11, 25),
        finished_on=date.fromisoformat(row.finished_on),
    )
    assert verdict == ON_TIME, row.finished_on


def test_an_older_finish_moves_only_the_first_finish_day():
    returned = apply_event(None, event("e2", "returned", "2026-11-27T09:00:00+07:00"), TZ).row
    assert returned is not None
    change = apply_event(returned, event("e1", "result_ready", "2026-11-24T15:00:00+07:00"), TZ)
    assert change.row == dataclasses.replace(returned, finished_on="2026-11-24")
    assert change.notice is None and not change.applied


def test_an_older_finish_after_the_first_finish_held_changes_nothing():
    held = apply_event(None, event("e1", "result_ready", "2026-11-24T15:00:00+07:00"), TZ).row
    held = apply_event(held, event("e3", "returned", "2026-11-28T09:00:00+07:00"), TZ).row
    change = apply_event(held, event("e2", "withdrawn", "2026-11-26T09:00:00+07:00"), TZ)
    assert change.row is None and not change.applied


def test_a_later_finish_keeps_the_first_finish_day():
    held = apply_event(None, event("e1", "result_ready", "2026-11-24T15:00:00+07:00"), TZ).row
    change = apply_event(held, event("e2", "returned", "2026-11-27T09:00:00+07:00"), TZ)
    assert change.row is not None and change.row.status == "returned"
    assert change.row.finished_on == "2026-11-24"
