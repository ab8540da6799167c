"""What publishing a refused payload again does (docs/INTEGRATION.md, "Publishing again"):
a payload refused as it was read kept nothing, so its id is free; one that was taken (its
notice or job then refused for the number, say) used its id, and the same id again is a
repeat that sends nothing: the fix goes out under a new id."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from gateway.intake.consumer import Received
from gateway.settings.config import Config, ScheduleConfig, default_config
from gateway.store.store import Store
from tests.support.intake import intake_on

EVENT: dict[str, Any] = {
    "event_id": "e1", "receipt_no": "0101701234", "agency": "SCT", "procedure": "Cấp phép",
    "phone": "0905 123 456", "step": "Trả kết quả", "status": "result_ready",
    "occurred_at": "2026-11-22T10:00:00+07:00",
}  # fmt: skip
JOB: dict[str, Any] = {"id": "j1", "to": "0905123456", "template": "supplement",
                       "params": {"receipt_no": "0101701234"}}  # fmt: skip
LANDLINE = "024 3825 1234"


def config() -> Config:
    return dataclasses.replace(
        default_config(), schedule=dataclasses.replace(ScheduleConfig(), quiet_hours=None)
    )


def dossier(**fields: Any) -> Received:
    return Received("motcua/SCT/dossier", json.dumps(EVENT | fields).encode())


def job(**fields: Any) -> Received:
    return Received("motcua/SCT/sms", json.dumps(JOB | fields).encode())


async def statuses(store_location, *items: Received) -> list[tuple[str, str]]:
    """(id, state) of every status published for `items`, taken one at a time."""
    cfg = config()
    async with Store.open(store_location) as store:
        intake = intake_on(store, cfg)
        for item in items:
            await intake.process([item])
        rows = await store.statuses.pending(1000)
    return [(s["id"], s["state"]) for s in (json.loads(r[2]) for r in rows)]


async def test_an_event_refused_as_read_may_be_published_again_with_its_event_id(store_location):
    got = await statuses(store_location, dossier(receipt_no=101701234), dossier())

    assert got == [("e1", "rejected"), ("e1:result", "queued")]


async def test_an_event_taken_is_not_taken_again_under_its_event_id_though_fixed(store_location):
    got = await statuses(store_location, dossier(phone=LANDLINE), dossier())

    assert got == [("e1:result", "rejected")]


async def test_the_dossiers_state_as_a_new_event_sends_the_notice_its_phone_held_back(
    store_location,
):
    got = await statuses(
        store_location,
        dossier(phone=LANDLINE),
        dossier(event_id="e2", occurred_at="2026-11-22T11:00:00+07:00"),
    )

    assert got == [("e1:result", "rejected"), ("e2:result", "queued")]


async def test_a_job_refused_as_read_may_be_sent_again_with_its_id(store_location):
    got = await statuses(store_location, job(params={}), job())

    assert got == [("j1", "rejected"), ("j1", "queued")]


async def test_a_job_refused_for_its_number_used_its_id(store_location):
    got = await statuses(store_location, job(to=LANDLINE), job(), job(id="j2"))

    assert got == [("j1", "rejected"), ("j2", "queued")]
