"""A notice refused for want of a usable phone goes out when a later event for the same
dossier and status brings a good one (SPEC, "The MQTT contract")."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from gateway.composer import Composer
from gateway.config import ScheduleConfig, default_config
from gateway.intake import Intake, Received
from gateway.store import Store


def event(event_id: str, phone: str | None, at: str) -> Received:
    body = {
        "event_id": event_id, "receipt_no": "0101701234", "agency": "SCT",
        "procedure": "Cấp phép", "step": "Trả kết quả", "status": "result_ready",
        "due_date": "2026-11-25", "occurred_at": at,
    }  # fmt: skip
    if phone is not None:
        body["phone"] = phone
    return Received("motcua/SCT/dossier", json.dumps(body, ensure_ascii=False).encode())


async def _states_after(tmp_path: Path, first_phone: str | None) -> dict[str, str]:
    cfg = dataclasses.replace(
        default_config(), schedule=dataclasses.replace(ScheduleConfig(), quiet_hours=None)
    )
    async with Store.open(tmp_path / "g.db") as store:
        intake = Intake(store, Composer(cfg), cfg)
        await intake.process([event("e1", first_phone, "2026-11-22T10:00:00+07:00")])
        await intake.process([event("e2", "0905 123 456", "2026-11-22T11:00:00+07:00")])
        rows = await store.fetchall("SELECT ref, state FROM messages")
    return dict(rows)


async def test_result_refused_for_a_landline_goes_out_when_the_number_is_fixed(tmp_path):
    states = await _states_after(tmp_path, "0258 3822 123")
    assert states.get("e1:result") == "rejected"
    assert "queued" in states.values(), states


async def test_result_refused_for_no_number_goes_out_when_one_is_given(tmp_path):
    states = await _states_after(tmp_path, None)
    assert "queued" in states.values(), states
