"""An agency template the configuration accepts can be filled by an SMS job (SPEC: params
fill its placeholders); one that no job could ever fill is refused when the file loads."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from gateway.composer import Composer
from gateway.config import ConfigError, ScheduleConfig, parse_config
from gateway.intake import Intake, Received
from gateway.store import Store

YAML = """
store:
  path: {db}
agencies:
  SCT:
    name: Sở Công Thương
    templates:
      phi: "Lệ phí hồ sơ {{số_hồ_sơ}}: {{số_tiền}} đồng"
"""


async def test_a_template_with_vietnamese_placeholders_is_usable_or_refused_at_load(
    tmp_path: Path,
):
    try:
        cfg = parse_config(YAML.format(db=tmp_path / "g.db"))
    except ConfigError:
        return  # refused where the operator sees it: fine
    cfg = dataclasses.replace(cfg, schedule=dataclasses.replace(ScheduleConfig(), quiet_hours=None))
    job = {
        "id": "fee-1", "to": "0905123456", "template": "phi",
        "params": {"số_hồ_sơ": "0101701234", "số_tiền": "50.000"},
    }  # fmt: skip
    async with Store.open(tmp_path / "g.db") as store:
        intake = Intake(store, Composer(cfg), cfg)
        await intake.process(
            [Received("motcua/SCT/sms", json.dumps(job, ensure_ascii=False).encode())]
        )
        rows = await store.fetchall("SELECT state, reason FROM messages")
        statuses = [json.loads(p) for _s, _a, p in await store.pending_statuses(10)]
    reasons = [s.get("reason") for s in statuses]
    if not rows:
        pytest.fail(f"accepted at load, but the job was refused: {reasons}")
    assert rows == [("queued", None)]
