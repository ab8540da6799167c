"""`motcua-sms report`: any grouping of agency, procedure and day, the new columns in
table, CSV and JSON, `--agency`; bad input refused with one line naming the option."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.ops.report import render as render_report
from gateway.store.figures import NOT_DELIVERED, FigureRow
from gateway.store.store import Store
from tests.support.clock import Clock, at
from tests.support.daemon import write_daemon_config
from tests.support.figures import dossier, figure_composer, notice, settle

DAY = "2026-11-23"
AGENCIES = "  SCT:\n    name: Sở Công Thương\n  STP:\n    name: Sở Tư pháp\n"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """Two agencies' figures of 23/11/2026: SCT resolved two dossiers (one notice
    delivered, one refused for a landline), STP received one."""
    db = tmp_path / "gateway.db"

    async def seed() -> None:
        clock = Clock(at(10))
        composer = figure_composer(clock)
        async with Store.open(db, clock=clock) as store:
            await notice(store, composer, dossier("A1", status="result_ready"), "a1")
            await settle(store, clock, "a1", "delivered")
            landline = dossier("A2", status="result_ready", phone="02363822123", code="2.002")
            await notice(store, composer, landline, "a2")
            await store.dossiers.record_intake(dossiers=[dossier("B1", agency="STP")])

    asyncio.run(seed())
    path = tmp_path / "gateway.yaml"
    write_daemon_config(path, broker_port=1883, smsc_port=2775, db=db, agencies=AGENCIES)
    with path.open("a", encoding="utf-8") as f:
        f.write("report:\n  segment_price: 450\n")
    return path


def report(config: Path, capsys, *options: str, since: str = DAY, until: str = DAY):
    status = main(["report", "-c", str(config), "--from", since, "--to", until, *options])
    out, err = capsys.readouterr()
    return status, out, err


def test_by_agency_procedure_and_day_gives_one_row_per_procedure_of_each_agency(config, capsys):
    status, out, err = report(config, capsys, "--by", "day,procedure,agency", "--format", "json")

    assert (status, err) == (0, "")
    rows = json.loads(out)
    assert [(r["agency"], r["procedure_code"], r["day"]) for r in rows] == [
        ("SCT", "1.001", DAY), ("SCT", "2.002", DAY), ("STP", "1.001", DAY),
    ]  # fmt: skip
    first = rows[0]
    assert first["procedure_name"] == "Cấp giấy phép"
    assert (first["dossiers_resolved"], first["notices_delivered"]) == (1, 1)
    assert (first["delivered_ratio"], first["segments"], first["cost_vnd"]) == (1.0, 1, 450)
    assert rows[1]["not_delivered_by_reason"]["landline"] == 1
    assert rows[1]["delivered_ratio"] == 0.0
    assert rows[2]["delivered_ratio"] is None  # nothing resolved


def test_csv_has_a_column_per_figure_and_per_reason(config, capsys):
    status, out, _ = report(config, capsys, "--by", "agency", "--format", "csv")

    assert status == 0
    sct, stp = csv.DictReader(io.StringIO(out))
    assert list(sct) == [
        "agency", "dossiers_received", "dossiers_resolved", "notices_queued",
        "notices_delivered", "results_delivered", "not_delivered", "not_delivered_landline",
        "not_delivered_invalid_number", "not_delivered_no_number",
        "not_delivered_undeliverable", "not_delivered_expired", "not_delivered_failed",
        "delivered_ratio", "lookups_answered", "segments", "cost_vnd",
        # The channels' columns, after those a CSV reader had before them.
        "zalo_delivered", "zalo_fallbacks", "emails_sent", "emails_failed",
        "zalo_cost_vnd", "total_cost_vnd",
    ]  # fmt: skip
    assert (sct["agency"], sct["dossiers_resolved"], sct["not_delivered_landline"]) == (
        "SCT", "2", "1",
    )  # fmt: skip
    assert (sct["delivered_ratio"], stp["delivered_ratio"]) == ("0.5000", "")


def test_the_table_shows_ratio_as_a_percentage_and_cost_in_dong(config, capsys):
    status, out, _ = report(config, capsys, "--by", "agency")

    assert status == 0
    head, sct, stp = out.splitlines()
    assert head.split()[:3] == ["agency", "received", "resolved"]
    # ratio, MCKH, segments, cost VND, then the six channels' columns
    assert sct.split()[0] == "SCT" and "50.0%" in sct.split() and sct.split()[-7] == "450"
    assert stp.split()[0] == "STP" and stp.split()[-10] == "-"  # no ratio without resolved


@pytest.mark.parametrize("given", [["--agency", "STP"], ["--agency", "STP,STP"]])
def test_agency_keeps_only_that_agency(config, capsys, given):
    _, out, _ = report(config, capsys, "--by", "agency", "--format", "json", *given)

    assert [r["agency"] for r in json.loads(out)] == ["STP"]


def test_agency_given_twice_reports_both(config, capsys):
    _, out, _ = report(config, capsys, "--format", "json", "--agency", "STP", "--agency", "SCT")

    assert [r["agency"] for r in json.loads(out)] == ["SCT", "STP"]


def test_no_grouping_is_not_a_grouping(config, capsys):
    status, _, err = report(config, capsys, "--by", "")

    assert status == 2
    assert err == (
        "motcua-sms: report: --by: unknown grouping ''; any of agency, procedure, day,"
        " separated by commas\n"
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--by", "agency,week"], "--by: unknown grouping 'week'; any of agency, procedure, day"),
        (["--agency", "XYZ"], "--agency: unknown agency 'XYZ'; known: SCT, STP"),
    ],
)
def test_an_unknown_grouping_or_agency_is_refused_naming_it(config, capsys, options, message):
    status, out, err = report(config, capsys, *options)

    assert (status, out) == (2, "")
    assert err.startswith(f"motcua-sms: report: {message}")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        ("2026-11-23", "2026-11-22", "--to 2026-11-22 is before --from 2026-11-23"),
        ("2000-01-01", "2199-12-31", "spans 73049 days; at most 3653 (ten years)"),
    ],
)
def test_an_absurd_range_is_refused_before_the_store_is_read(
    tmp_path, capsys, since, until, message
):
    path = tmp_path / "gateway.yaml"
    write_daemon_config(path, broker_port=1883, smsc_port=2775, db=tmp_path / "none.db")

    status, out, err = report(path, capsys, since=since, until=until)

    assert (status, out) == (2, "")
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "none.db").exists()


def test_a_missing_store_is_refused_naming_it_and_none_is_created(tmp_path, capsys):
    path = tmp_path / "gateway.yaml"
    write_daemon_config(path, broker_port=1883, smsc_port=2775, db=tmp_path / "none.db")

    status, out, err = report(path, capsys)

    assert (status, out) == (2, "")
    assert err == f"motcua-sms: report: no store at {tmp_path / 'none.db'}\n"
    assert not (tmp_path / "none.db").exists()


def test_a_date_that_is_no_date_is_refused_by_the_option_parser(config, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["report", "-c", str(config), "--from", "2026-13-01", "--to", DAY])

    assert exit_.value.code == 2
    assert "'2026-13-01': expected a date YYYY-MM-DD" in capsys.readouterr().err


def test_the_table_prints_a_ratio_short_of_whole_with_one_decimal_not_as_100_percent():
    row = FigureRow(
        agency="SCT", procedure_code=None, procedure_name=None, day=None,
        dossiers_received=405, dossiers_resolved=405, notices_queued=405,
        notices_delivered=404, results_delivered=404,
        not_delivered={r: 0 for r in NOT_DELIVERED}, lookups_answered=0, segments=0, cost_vnd=0,
    )  # fmt: skip
    (_, line) = render_report([row], ("agency",), "table").splitlines()
    assert "99.8%" in line.split() and "100%" not in line and "100.0%" not in line


def test_every_format_carries_the_result_notices_delivered(config, capsys):
    _, out, _ = report(config, capsys, "--by", "agency", "--format", "csv")
    sct, _ = csv.DictReader(io.StringIO(out))
    _, out, _ = report(config, capsys, "--by", "agency", "--format", "json")
    assert (sct["results_delivered"], json.loads(out)[0]["results_delivered"]) == ("1", 1)
