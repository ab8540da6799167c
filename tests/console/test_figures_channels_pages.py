"""The console's procedure table and its exports per channel: the notices Zalo delivered
and handed to SMS, the e-mail copies sent and failed, and the cost of SMS, of Zalo and of
both, with Vietnamese headings (tests/support/channel_figures.py's `seed_channels`:
SCT's 1.001 one notice by Zalo and one Zalo handed to SMS, one e-mail sent; 2.002 one by
Zalo, one e-mail refused)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook

from tests.support.channel_figures import seed_channels
from tests.support.console import client, log_in, running_console
from tests.support.figures import PRICE

DAY = "from=2026-11-23&to=2026-11-23"
ZNS_PRICE = 300
CHANNELS = [
    "Thông báo đã đến qua Zalo", "Thông báo Zalo chuyển sang SMS", "Thư điện tử đã gửi",
    "Thư điện tử gửi lỗi", "Chi phí Zalo (đồng)", "Tổng chi phí (đồng)",
]  # fmt: skip


@pytest.fixture
async def running(tmp_path):
    async with running_console(tmp_path, seeding=seed_channels, zns_price=ZNS_PRICE) as running:
        yield running


async def fetch(running, path: str) -> bytes:
    async with client(running.url) as session:
        await log_in(session)
        async with session.get(path, allow_redirects=False) as answer:
            assert answer.status == 200
            return await answer.read()


def cells(body: str, code: str) -> dict[str, str]:
    """The procedure table's cells of the procedure `code`, by column key."""
    html = re.search(r'<table id="table-thu-tuc">(.*?)</table>', body, re.S)[1]
    for row in re.findall(r"<tr>(.*?)</tr>", html.split("<tbody>")[1], re.S):
        found = dict(re.findall(r'<td class="[^"]*" data-key="([^"]+)">(.*?)</td>', row, re.S))
        if found["procedure_code"] == code:
            return found
    raise AssertionError(f"no row of {code}")


async def test_the_procedure_table_heads_the_channels_columns_in_vietnamese(running):
    body = (await fetch(running, f"/thu-tuc?{DAY}")).decode()
    head = re.search(r'<table id="table-thu-tuc">.*?</thead>', body, re.S)[0]
    labels = re.findall(r'data-sort="[^"]+">([^<]+)<', head)

    assert labels[-7:] == ["Chi phí SMS (đồng)", *CHANNELS]


async def test_the_procedure_table_shows_the_notices_per_channel_and_the_cost_per_channel(
    running,
):
    body = (await fetch(running, f"/thu-tuc?{DAY}")).decode()
    permit, other = cells(body, "1.001"), cells(body, "2.002")

    keys = ["zalo_delivered", "zalo_fallbacks", "emails_sent", "emails_failed"]
    assert [permit[k] for k in keys] == ["1", "1", "1", "0"]
    assert [other[k] for k in keys] == ["1", "0", "0", "1"]
    assert (permit["cost_vnd"], permit["zalo_cost_vnd"]) == (str(PRICE), str(ZNS_PRICE))
    assert permit["total_cost_vnd"] == f"{PRICE + ZNS_PRICE:,}".replace(",", ".")


async def test_the_procedure_csv_export_carries_the_channels_columns_last(running):
    body = await fetch(running, f"/xuat/thu-tuc.csv?{DAY}")
    table = {r["Mã thủ tục"]: r for r in csv.DictReader(io.StringIO(body.decode("utf-8-sig")))}

    assert list(table["1.001"])[-6:] == CHANNELS
    assert [table["1.001"][label] for label in CHANNELS] == [
        "1", "1", "1", "0", str(ZNS_PRICE), str(PRICE + ZNS_PRICE),
    ]  # fmt: skip
    assert [table["2.002"][label] for label in CHANNELS] == [
        "1", "0", "0", "1", str(ZNS_PRICE), str(ZNS_PRICE),
    ]  # fmt: skip


async def test_the_procedure_xlsx_export_carries_the_channels_columns_as_numbers(running):
    body = await fetch(running, f"/xuat/thu-tuc.xlsx?{DAY}")
    sheet = load_workbook(io.BytesIO(body)).active
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    by_code = {r[header.index("Mã thủ tục")]: dict(zip(header, r, strict=True)) for r in rows}

    assert header[-6:] == CHANNELS
    assert [by_code["1.001"][label] for label in CHANNELS] == [
        1, 1, 1, 0, ZNS_PRICE, PRICE + ZNS_PRICE,
    ]  # fmt: skip
