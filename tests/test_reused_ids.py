"""An id reused for different content is answered, not swallowed: a redelivery (same
content) changes nothing, but an event id or job id that comes back naming another
dossier or another citizen is an integration error the agency must hear about (README:
"Bad input gets a clear error and loses nothing")."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from gateway.composer import Composer
from gateway.config import ScheduleConfig, default_config
from gateway.intake import Intake, Received
from gateway.store import Store


def event(event_id: str, receipt_no: str, phone: str) -> Received:
    body = {
        "event_id": event_id, "receipt_no": receipt_no, "agency": "SCT",
        "procedure": "Cấp phép", "step": "Trả kết quả", "status": "result_ready",
        "due_date": "2026-11-25", "phone": phone, "occurred_at": "2026-11-22T10:00:00+07:00",
    }  # fmt: skip
    return Received("motcua/SCT/dossier", json.dumps(body, ensure_ascii=False).encode())


def job(job_id: str, to: str) -> Received:
    body = {"id": job_id, "to": to, "text": "Lệ phí 50.000 đồng"}
    return Received("motcua/SCT/sms", json.dumps(body, ensure_ascii=False).encode())


async def _run(tmp_path: Path, first: Received, second: Received) -> list[dict[str, Any]]:
    cfg = dataclasses.replace(
        default_config(), schedule=dataclasses.replace(ScheduleConfig(), quiet_hours=None)
    )
    async with Store.open(tmp_path / "g.db") as store:
        intake = Intake(store, Composer(cfg), cfg)
        await intake.process([first])
        before = len(await store.pending_statuses(100))
        await intake.process([second])
        rows = await store.pending_statuses(100)
    return [json.loads(p) for _s, _a, p in rows[before:]]


async def test_an_event_id_reused_for_another_dossier_gets_a_rejected_status(tmp_path):
    after = await _run(
        tmp_path, event("7", "0101701234", "0905123456"), event("7", "0101709999", "0912345678")
    )
    assert [s["state"] for s in after] == ["rejected"], after
    assert after[0]["reason"].startswith("event_id")


async def test_a_job_id_reused_for_another_number_gets_a_rejected_status(tmp_path):
    after = await _run(tmp_path, job("fee-1", "0905123456"), job("fee-1", "0912345678"))
    assert [s["state"] for s in after] == ["rejected"], after
    assert after[0]["reason"].startswith("id")
