"""What the pages and exports show of the figures (tests/support/console.py's store: SCT's
1.001 resolved 3 and delivered 1, a landline and an undeliverable; 1.002 and STP's 2.001
one of one)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook

from tests.support.console import STP_USER, client, log_in, running_console

DAY = "from=2026-11-23&to=2026-11-23"


@pytest.fixture
async def running(tmp_path):
    async with running_console(tmp_path) as running:
        yield running


async def fetch(running, path: str, user: str | None = None) -> tuple[int, bytes, dict]:
    async with client(running.url) as session:
        await log_in(session, *([user] if user else []))
        async with session.get(path, allow_redirects=False) as answer:
            return answer.status, await answer.read(), dict(answer.headers)


def marks(body: str, agency: str, series: str) -> dict[str, str]:
    section = re.search(rf'data-agency="{agency}">(.*?)</section>', body, re.S)[1]
    pattern = rf'data-day="([\d-]+)" data-series="{series}" data-value="([\d.]+)"'
    return dict(re.findall(pattern, section))


def rows_of(body: str, table: str) -> list[dict[str, str]]:
    html = re.search(rf'<table id="table-{table}">(.*?)</table>', body, re.S)[1]
    found = []
    for row in re.findall(r"<tr>(.*?)</tr>", html.split("<tbody>")[1], re.S):
        cells = re.findall(r'<td class="([^"]*)" data-key="([^"]+)">(.*?)</td>', row, re.S)
        found.append({key: text for _, key, text in cells} | {
            f"{key}.class": cls for cls, key, _ in cells
        })  # fmt: skip
    return found


async def test_the_overview_draws_each_agencys_resolved_and_delivered_per_day(running):
    status, body, _ = await fetch(running, "/?from=2026-11-22&to=2026-11-23")
    text = body.decode()

    assert status == 200
    assert marks(text, "SCT", "resolved") == {"2026-11-22": "0", "2026-11-23": "4"}
    assert marks(text, "SCT", "delivered") == {"2026-11-22": "0", "2026-11-23": "2"}
    assert marks(text, "SCT", "failure-share") == {"2026-11-23": "0.5000"}
    assert marks(text, "STP", "resolved") == {"2026-11-22": "0", "2026-11-23": "1"}


async def test_the_agency_filter_keeps_one_agencys_chart(running):
    _, body, _ = await fetch(running, f"/?{DAY}&agency=STP")

    assert 'data-agency="STP"' in body.decode() and 'data-agency="SCT"' not in body.decode()


async def test_the_procedure_table_highlights_the_ratio_where_notices_fall_short(running):
    _, body, _ = await fetch(running, f"/thu-tuc?{DAY}")
    rows = {r["procedure_code"]: r for r in rows_of(body.decode(), "thu-tuc")}

    assert rows["1.001"]["ratio"].startswith("33,3 %")
    assert "short" in rows["1.001"]["ratio.class"]
    assert rows["1.002"]["ratio"] == "100,0 %" and "short" not in rows["1.002"]["ratio.class"]
    assert rows["1.001"]["not_delivered_landline"] == "1"
    assert rows["1.001"]["not_delivered_undeliverable"] == "1"


async def test_the_procedure_table_sorts_by_the_column_asked_in_the_order_asked(running):
    _, up, _ = await fetch(running, f"/thu-tuc?{DAY}&sort=ratio&order=asc")
    _, down, _ = await fetch(running, f"/thu-tuc?{DAY}&sort=dossiers_resolved&order=desc")

    assert rows_of(up.decode(), "thu-tuc")[0]["procedure_code"] == "1.001"
    assert [r["dossiers_resolved"] for r in rows_of(down.decode(), "thu-tuc")] == ["3", "1", "1"]


async def test_failed_notices_show_receipt_masked_number_and_reason_in_vietnamese(running):
    _, body, _ = await fetch(running, f"/thong-bao-loi?{DAY}")
    rows = {r["receipt_no"]: r for r in rows_of(body.decode(), "thong-bao-loi")}

    assert set(rows) == {"000002", "000003"}
    assert rows["000002"]["reason"] == "Số máy bàn (không nhận được SMS)"
    assert rows["000003"]["reason"] == "Nhà mạng không chuyển được tin"
    assert "0905123457" not in body.decode() and "905123457" not in body.decode()
    assert "*" in rows["000003"]["masked_number"]


async def test_an_agency_user_sees_none_of_another_agencys_failed_notices(running):
    _, body, _ = await fetch(running, f"/thong-bao-loi?{DAY}", STP_USER.name)

    assert "000002" not in body.decode() and "000003" not in body.decode()


async def test_the_procedure_table_exports_as_csv_with_the_pages_rows(running):
    status, body, headers = await fetch(running, f"/xuat/thu-tuc.csv?{DAY}&sort=ratio")

    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert 'filename="thu-tuc_2026-11-23_2026-11-23.csv"' in headers["Content-Disposition"]
    assert body.startswith("\ufeff".encode())
    table = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert [r["Mã thủ tục"] for r in table] == ["1.001", "1.002", "2.001"]
    assert table[0]["Tỉ lệ báo kết quả / đã giải quyết"] == "0.3333"
    assert table[0]["Hồ sơ đã giải quyết"] == "3"


async def test_the_overview_exports_as_xlsx_with_numbers_and_dates(running):
    status, body, headers = await fetch(running, f"/xuat/tong-quan.xlsx?{DAY}")

    assert status == 200 and "spreadsheetml" in headers["Content-Type"]
    sheet = load_workbook(io.BytesIO(body)).active
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    by_agency = {r[0]: dict(zip(header, r, strict=True)) for r in rows}
    sct = by_agency["Sở Công Thương"]
    assert sct["Ngày"].date() == date(2026, 11, 23)
    assert (sct["Hồ sơ đã giải quyết"], sct["Thông báo đã đến người dân"]) == (4, 2)
    assert sct["Tỉ lệ báo kết quả / đã giải quyết"] == pytest.approx(0.5)


async def test_the_failed_notices_export_carries_masked_numbers_only(running):
    _, body, _ = await fetch(running, f"/xuat/thong-bao-loi.csv?{DAY}")
    table = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))

    assert sorted(r["Số biên nhận"] for r in table) == ["000002", "000003"]
    assert b"0905123457" not in body and b"2363822123" not in body


async def test_an_unknown_table_or_format_is_404(running):
    for path in (f"/xuat/mat-khau.csv?{DAY}", f"/xuat/thu-tuc.pdf?{DAY}"):
        status, body, _ = await fetch(running, path)
        assert status == 404 and "Không có bảng này" in body.decode()
