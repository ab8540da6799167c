"""Intake as the `Batcher` calls it, on a real SQLite store: the configuration, the jobs.

What a test reads back is what would be committed and then acknowledged on MQTT.
"""

from __future__ import annotations

import dataclasses
import json
from types import MappingProxyType
from typing import Any

from gateway.app import composer_settings, intake_settings
from gateway.compose.composer import Composer
from gateway.intake.consumer import Intake, Received
from gateway.settings.config import AgencyConfig, Config, ScheduleConfig, default_config
from gateway.store.store import Store
from tests.support.store_reads import db_rows

FEE = "Hồ sơ {receipt_no}: lệ phí {amount} đồng, vui lòng nộp trước ngày {deadline}"
FEE_PARAMS = {"receipt_no": "0101701234", "amount": 50000, "deadline": "30/11/2026"}


def config(**templates: str) -> Config:
    """SCT keeps diacritics and has a fee template (and `templates`); no quiet hours."""
    base = default_config()
    sct = AgencyConfig(
        code="SCT",
        name="Sở Công Thương",
        diacritics="keep",
        templates=MappingProxyType({"fee_reminder": FEE, **templates}),
    )
    return dataclasses.replace(
        base,
        agencies=MappingProxyType({**base.agencies, "SCT": sct}),
        schedule=dataclasses.replace(ScheduleConfig(), quiet_hours=None),
    )


def job(n: int | str, **fields: Any) -> Received:
    """SMS job `job-{n}` with a ready text, as it arrives on `motcua/SCT/sms`."""
    body = {"id": f"job-{n}", "to": "0905123456", "text": f"Thông báo {n}", **fields}
    return Received("motcua/SCT/sms", json.dumps(body, ensure_ascii=False).encode())


def template_job(n: int | str, template: str, params: dict[str, Any]) -> Received:
    """SMS job `job-{n}` naming `template` with `params`."""
    body = {"id": f"job-{n}", "to": "0905123456", "template": template, "params": params}
    return Received("motcua/SCT/sms", json.dumps(body, ensure_ascii=False).encode())


def intake_on(store: Store, cfg: Config, composer: Composer | None = None) -> Intake:
    """The daemon's intake on `store`, wired as `gateway.app` wires it: its repositories,
    its settings from `cfg`, and `composer` (one built from `cfg` if not given)."""
    return Intake(
        store.dossiers,
        store.outbox,
        composer or Composer(composer_settings(cfg)),
        intake_settings(cfg),
    )


class IntakeRig:
    """`Intake` on a real store, and what it committed: messages and pending statuses."""

    def __init__(self, store: Store, intake: Intake) -> None:
        self.store = store
        self.intake = intake

    async def messages(self) -> dict[str, tuple[str, str | None, str | None]]:
        rows = await db_rows(self.store, "SELECT ref, state, reason, text FROM messages")
        return {ref: (state, reason, text) for ref, state, reason, text in rows}

    async def statuses(self) -> list[dict[str, Any]]:
        rows = await self.store.statuses.pending(10_000)
        return [json.loads(payload) for _seq, _agency, payload in rows]

    async def rejected(self) -> dict[str, str]:
        return {s["id"]: s["reason"] for s in await self.statuses() if s["state"] == "rejected"}
