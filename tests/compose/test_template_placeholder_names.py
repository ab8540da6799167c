"""An agency template the configuration accepts can be filled by an SMS job (SPEC: params
fill its placeholders): one rule names both (Unicode identifiers, NFC), so Vietnamese
placeholders such as `{số_tiền}` work, and a name neither may use is refused by both."""

from __future__ import annotations

import dataclasses
import json
import unicodedata
from pathlib import Path

import pytest

from gateway.compose.templates import render
from gateway.domain.notice import TemplateError, template_fields
from gateway.intake.consumer import Received
from gateway.intake.payloads import Rejection, SmsJob, parse_sms
from gateway.settings.config import ScheduleConfig, parse_config
from gateway.store.store import Store
from tests.support.intake import intake_on
from tests.support.store_reads import db_rows

YAML = """
store:
  path: {db}
agencies:
  SCT:
    name: Sở Công Thương
    templates:
      phi: "Lệ phí hồ sơ {{số_hồ_sơ}}: {{số_tiền}} đồng"
"""


async def test_a_template_with_vietnamese_placeholders_is_accepted_and_filled_by_a_job(
    tmp_path: Path, store_location,
):
    cfg = parse_config(YAML.format(db=tmp_path / "g.db"))
    cfg = dataclasses.replace(cfg, schedule=dataclasses.replace(ScheduleConfig(), quiet_hours=None))
    job = {
        "id": "fee-1", "to": "0905123456", "template": "phi",
        "params": {"số_hồ_sơ": "0101701234", "số_tiền": "50.000"},
    }  # fmt: skip
    async with Store.open(store_location) as store:
        intake = intake_on(store, cfg)
        await intake.process(
            [Received("motcua/SCT/sms", json.dumps(job, ensure_ascii=False).encode())]
        )
        rows = await db_rows(store, "SELECT state, reason FROM messages")
        statuses = [json.loads(p) for _s, _a, p in await store.statuses.pending(10)]
    assert rows == [("queued", None)], [s.get("reason") for s in statuses]


def test_a_decomposed_param_name_fills_the_composed_placeholder():
    nfd = unicodedata.normalize("NFD", "số_tiền")
    payload = {"id": "fee-1", "to": "0905123456", "template": "phi", "params": {nfd: "50.000"}}
    job = parse_sms(
        json.dumps(payload, ensure_ascii=False).encode(),
        topic_agency="SCT",
        agencies={"SCT"},
        templates=lambda _name: template_fields("Lệ phí: {số_tiền} đồng"),
    )
    assert isinstance(job, SmsJob), job
    assert render("Lệ phí: {số_tiền} đồng", job.params, strip=False) == "Lệ phí: 50.000 đồng"


@pytest.mark.parametrize("name", ["1_so", "số-tiền", "a" * 65])
def test_a_name_no_job_may_use_is_no_placeholder_either(name: str):
    with pytest.raises(TemplateError):
        template_fields("Lệ phí: {" + name + "}")
    payload = {"id": "fee-1", "to": "0905123456", "template": "phi", "params": {name: "1"}}
    refused = parse_sms(
        json.dumps(payload, ensure_ascii=False).encode(), topic_agency="SCT", agencies={"SCT"}
    )
    assert isinstance(refused, Rejection) and refused.field == "params", refused
