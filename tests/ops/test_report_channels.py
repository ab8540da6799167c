"""`motcua-sms report` per channel: the notices Zalo delivered and handed to SMS, the
e-mail copies sent and failed, and the cost of SMS (segments × `report.segment_price`),
of Zalo (notices Zalo delivered × `report.zns_price`) and of both, in table, CSV and JSON,
in the columns after those the report had before."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.domain.states import MessageState
from gateway.store.store import Store
from tests.support.channel_figures import (
    channel_composer,
    delivered_by_zalo,
    letter_outcome,
    refused_by_zalo,
    result_notice,
)
from tests.support.clock import Clock, at
from tests.support.daemon import write_daemon_config
from tests.support.figures import settle

DAY = "2026-11-23"
AGENCIES = "  SCT:\n    name: Sở Công Thương\n  STP:\n    name: Sở Tư pháp\n"


def seed(db: Path) -> None:
    """SCT's 23/11/2026: three notices on [zalo, sms], two delivered by Zalo and one
    Zalo refused that SMS delivered in two segments; two e-mail copies, one sent and
    one refused. STP's: one SMS notice delivered, in one segment."""

    async def run() -> None:
        clock = Clock(at(10))
        composer = channel_composer(clock)
        async with Store.open(db, clock=clock) as store:
            await result_notice(store, composer, "a1", email="dan@example.vn")
            await result_notice(store, composer, "a2", email="dan2@example.vn")
            await result_notice(store, composer, "a3")
            await result_notice(store, composer, "b1", agency="STP")
            await delivered_by_zalo(store, clock, "a1")
            await delivered_by_zalo(store, clock, "a2")
            await refused_by_zalo(store, clock, "a3")
            await settle(store, clock, "a3", "delivered")
            await settle(store, clock, "b1", "delivered")
            await letter_outcome(store, clock, "a1", MessageState.DELIVERED)
            await letter_outcome(store, clock, "a2", MessageState.FAILED)

    asyncio.run(run())


def write_config(tmp_path: Path, report_section: str) -> Path:
    db = tmp_path / "gateway.db"
    if not db.exists():
        seed(db)
    path = tmp_path / "gateway.yaml"
    write_daemon_config(path, broker_port=1883, smsc_port=2775, db=db, agencies=AGENCIES)
    with path.open("a", encoding="utf-8") as f:
        f.write(report_section)
    return path


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path, "report:\n  segment_price: 450\n  zns_price: 300\n")


def report(config: Path, capsys, *options: str) -> str:
    status = main(["report", "-c", str(config), "--from", DAY, "--to", DAY, *options])
    out, err = capsys.readouterr()
    assert (status, err) == (0, "")
    return out


def test_json_gives_the_notices_each_channel_carried_and_the_letters(config, capsys):
    sct, stp = json.loads(report(config, capsys, "--by", "agency", "--format", "json"))

    assert sct["agency"] == "SCT" and sct["notices_delivered"] == 3
    assert (sct["zalo_delivered"], sct["zalo_fallbacks"]) == (2, 1)
    assert (sct["emails_sent"], sct["emails_failed"]) == (1, 1)
    assert (stp["zalo_delivered"], stp["zalo_fallbacks"], stp["emails_sent"]) == (0, 0, 0)


def test_json_gives_the_cost_of_sms_of_zalo_and_of_both(config, capsys):
    sct, stp = json.loads(report(config, capsys, "--by", "agency", "--format", "json"))

    # SCT: the fallback's 1 segment at 450, two ZNS at 300; STP: one segment.
    assert (sct["segments"], sct["cost_vnd"]) == (1, 450)
    assert (sct["zalo_cost_vnd"], sct["total_cost_vnd"]) == (600, 1050)
    assert (stp["cost_vnd"], stp["zalo_cost_vnd"], stp["total_cost_vnd"]) == (450, 0, 450)


def test_csv_gives_the_channels_figures_in_its_last_columns(config, capsys):
    out = report(config, capsys, "--by", "agency", "--format", "csv")
    sct, stp = csv.DictReader(io.StringIO(out))

    assert list(sct)[-7:] == [
        "cost_vnd", "zalo_delivered", "zalo_fallbacks", "emails_sent", "emails_failed",
        "zalo_cost_vnd", "total_cost_vnd",
    ]  # fmt: skip
    assert list(sct.values())[-7:] == ["450", "2", "1", "1", "1", "600", "1050"]
    assert list(stp.values())[-7:] == ["450", "0", "0", "0", "0", "0", "450"]


def test_the_table_shows_the_channels_and_the_cost_per_channel_in_dong(tmp_path, capsys):
    config = write_config(tmp_path, "report:\n  segment_price: 1450\n  zns_price: 800\n")

    head, sct, _ = report(config, capsys, "--by", "agency").splitlines()

    assert head.endswith("zalo deliv.  zalo to SMS  e-mails  e-mails failed  zalo VND  total VND")
    assert sct.split()[-7:] == ["1,450", "2", "1", "1", "1", "1,600", "3,050"]


def test_without_a_zns_price_the_report_shows_no_zalo_cost(tmp_path, capsys):
    config = write_config(tmp_path, "report:\n  segment_price: 450\n")

    sct, _ = json.loads(report(config, capsys, "--by", "agency", "--format", "json"))

    assert (sct["zalo_delivered"], sct["zalo_cost_vnd"], sct["total_cost_vnd"]) == (2, 0, 450)
