"""A notice refused for want of a usable phone goes out when a later event for the same
dossier and status brings a good one (SPEC, "The MQTT contract"), and only then: once it
went out (or is queued), once the status moved on, never twice."""

from __future__ import annotations

import dataclasses
import json

from gateway.intake.consumer import Received
from gateway.settings.config import ScheduleConfig, default_config
from gateway.store.store import Store
from tests.support.intake import intake_on
from tests.support.store_reads import db_rows

GOOD = "0905 123 456"
LANDLINE = "0258 3822 123"


def event(event_id: str, phone: str | None, hour: int, status: str = "result_ready") -> Received:
    body = {
        "event_id": event_id, "receipt_no": "0101701234", "agency": "SCT",
        "procedure": "Cấp phép", "step": "Trả kết quả", "status": status,
        "due_date": "2026-11-25", "occurred_at": f"2026-11-22T{hour:02d}:00:00+07:00",
    }  # fmt: skip
    if phone is not None:
        body["phone"] = phone
    return Received("motcua/SCT/dossier", json.dumps(body, ensure_ascii=False).encode())


async def _states_after(store_location, *batches: list[Received]) -> dict[str, str]:
    """Each batch through intake, the store closed and opened again between batches."""
    cfg = dataclasses.replace(
        default_config(), schedule=dataclasses.replace(ScheduleConfig(), quiet_hours=None)
    )
    for batch in batches:
        async with Store.open(store_location) as store:
            await intake_on(store, cfg).process(batch)
    async with Store.open(store_location) as store:
        rows = await db_rows(store, "SELECT ref, state FROM messages ORDER BY id")
    return dict(rows)


async def test_result_refused_for_a_landline_goes_out_when_the_number_is_fixed(store_location):
    states = await _states_after(
        store_location, [event("e1", LANDLINE, 10)], [event("e2", GOOD, 11)]
    )
    assert states == {"e1:result": "rejected", "e2:result": "queued"}


async def test_result_refused_for_no_number_goes_out_when_one_is_given(store_location):
    states = await _states_after(store_location, [event("e1", None, 10)], [event("e2", GOOD, 11)])
    assert states == {"e1:result": "rejected", "e2:result": "queued"}


async def test_the_fix_in_the_same_batch_as_the_refusal_sends_the_notice(store_location):
    states = await _states_after(store_location, [event("e1", LANDLINE, 10), event("e2", GOOD, 11)])
    assert states == {"e1:result": "rejected", "e2:result": "queued"}


async def test_a_notice_sent_once_the_number_was_fixed_is_not_sent_again(store_location):
    states = await _states_after(
        store_location,
        [event("e1", LANDLINE, 10)],
        [event("e2", GOOD, 11)],
        [event("e2", GOOD, 11)],  # the fixed event redelivered
        [event("e3", GOOD, 12)],  # and the same status once more
    )
    assert states == {"e1:result": "rejected", "e2:result": "queued"}


async def test_a_repeated_status_sends_nothing_when_its_notice_went_out(store_location):
    states = await _states_after(store_location, [event("e1", GOOD, 10)], [event("e2", GOOD, 11)])
    assert states == {"e1:result": "queued"}


async def test_a_number_still_unusable_is_refused_again_and_a_later_good_one_still_sends(
    store_location,
):
    states = await _states_after(
        store_location,
        [event("e1", None, 10)],
        [event("e2", LANDLINE, 11)],
        [event("e3", GOOD, 12)],
    )
    assert states == {"e1:result": "rejected", "e2:result": "rejected", "e3:result": "queued"}


async def test_a_repeat_that_brings_no_number_leaves_the_notice_owed_without_refusing_again(
    store_location,
):
    states = await _states_after(
        store_location,
        [event("e1", LANDLINE, 10)],
        [event("e2", None, 11)],
        [event("e3", GOOD, 12)],
    )
    assert states == {"e1:result": "rejected", "e3:result": "queued"}


async def test_a_notice_refused_for_a_status_since_left_is_not_sent_for_the_next_one(
    store_location,
):
    states = await _states_after(
        store_location,
        [event("e1", LANDLINE, 10, status="needs_supplement")],
        [event("e2", GOOD, 11, status="processing")],
        [event("e3", GOOD, 12, status="processing")],
    )
    assert states == {"e1:supplement": "rejected"}
