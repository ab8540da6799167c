"""Any table as CSV or .xlsx: the page's columns and rows, Vietnamese intact, and a cell
a desk typed never run as a formula by the spreadsheet that opens the export."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import threading
from datetime import date, datetime
from types import MappingProxyType
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from gateway.console.export import Stopped, render, rendered, to_csv, to_xlsx
from gateway.console.tables import (
    REASONS,
    Table,
    failed_table,
    overview_table,
    procedure_table,
)
from gateway.store.figures import FailedNotice, FigureRow

NAMES = {"SCT": "Sở Công Thương"}


def row(name: str, resolved: int = 4, delivered: int = 3) -> FigureRow:
    return FigureRow(
        agency="SCT", procedure_code="1.001", procedure_name=name, day=None,
        dossiers_received=5, dossiers_resolved=resolved, notices_queued=4,
        notices_delivered=delivered, results_delivered=delivered,
        not_delivered=MappingProxyType({r: int(r == "landline") for r in REASONS}),
        lookups_answered=2, segments=7, cost_vnd=7 * 450,
        zalo_delivered=2, zalo_fallbacks=1, emails_sent=3, emails_failed=1,
        zalo_cost_vnd=2 * 300,
    )  # fmt: skip


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_begins_with_a_byte_order_mark_so_excel_reads_vietnamese():
    data = to_csv(procedure_table([row("Cấp giấy phép")], NAMES))

    assert data.startswith(b"\xef\xbb\xbf")
    assert csv_rows(data)[0]["Tên thủ tục"] == "Cấp giấy phép"


def test_csv_carries_the_counts_and_the_ratio_as_numbers():
    (only,) = csv_rows(to_csv(procedure_table([row("x")], NAMES)))

    assert only["Hồ sơ đã giải quyết"] == "4"
    assert only["Tỉ lệ báo kết quả / đã giải quyết"] == "0.7500"
    assert only["– Số máy bàn (không nhận được SMS)"] == "1"
    assert only["Chi phí SMS (đồng)"] == "3150"


# The channels' columns, after the others: a sheet's columns keep their places.
CHANNELS = [
    "Thông báo đã đến qua Zalo", "Thông báo Zalo chuyển sang SMS", "Thư điện tử đã gửi",
    "Thư điện tử gửi lỗi", "Chi phí Zalo (đồng)", "Tổng chi phí (đồng)",
]  # fmt: skip


@pytest.mark.parametrize("build", [procedure_table, overview_table])
def test_csv_carries_the_figures_per_channel_and_the_cost_per_channel_last(build):
    data = to_csv(build([row("x")], NAMES))
    (only,) = csv_rows(data)

    assert list(only)[-7:] == ["Chi phí SMS (đồng)", *CHANNELS]
    assert [only[label] for label in CHANNELS] == ["2", "1", "3", "1", "600", "3750"]


def test_xlsx_carries_the_figures_per_channel_and_its_costs_as_money():
    sheet = load_workbook(io.BytesIO(to_xlsx(procedure_table([row("x")], NAMES)))).active
    header = [c.value for c in sheet[1]]
    values = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    total = sheet.cell(row=2, column=header.index("Tổng chi phí (đồng)") + 1)
    money = sheet.cell(row=2, column=header.index("Chi phí SMS (đồng)") + 1).number_format

    assert header[-6:] == CHANNELS
    assert [values[label] for label in CHANNELS] == [2, 1, 3, 1, 600, 3750]
    assert (total.data_type, total.number_format) == ("n", money)


def test_a_text_cell_that_looks_like_a_formula_is_quoted_in_csv():
    for typed in ('=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)"):
        (only,) = csv_rows(to_csv(procedure_table([row(typed)], NAMES)))
        assert only["Tên thủ tục"] == "'" + typed


def test_a_text_cell_that_looks_like_a_formula_is_text_in_xlsx():
    typed = '=HYPERLINK("http://x","y")'
    sheet = load_workbook(io.BytesIO(to_xlsx(procedure_table([row(typed)], NAMES)))).active
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("Tên thủ tục") + 1)

    assert (cell.value, cell.data_type) == (typed, "s")


def test_xlsx_holds_numbers_a_percentage_and_the_labels_in_bold():
    sheet = load_workbook(io.BytesIO(to_xlsx(procedure_table([row("x")], NAMES)))).active
    header = [c.value for c in sheet[1]]
    values = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    ratio = sheet.cell(row=2, column=header.index("Tỉ lệ báo kết quả / đã giải quyết") + 1)

    assert values["Hồ sơ tiếp nhận"] == 5 and values["Cơ quan"] == "Sở Công Thương"
    assert ratio.value == 0.75 and ratio.number_format == "0.0%"
    assert sheet["A1"].font.bold


def test_a_procedure_with_no_dossier_resolved_has_an_empty_ratio_not_zero():
    (only,) = csv_rows(to_csv(procedure_table([row("x", resolved=0, delivered=0)], NAMES)))

    assert only["Tỉ lệ báo kết quả / đã giải quyết"] == ""


def test_an_overview_day_is_a_date_in_csv():
    day = dataclasses.replace(row("x"), day=date(2026, 11, 23))
    (only,) = csv_rows(to_csv(overview_table([day], NAMES)))

    assert only["Ngày"] == "2026-11-23"


def test_the_tables_carry_the_result_notices_delivered_the_ratio_reads():
    (only,) = csv_rows(to_csv(procedure_table([row("x", resolved=4, delivered=3)], NAMES)))

    assert (only["Thông báo kết quả đã đến"], only["Hồ sơ đã giải quyết"]) == ("3", "4")


def test_xlsx_holds_a_time_as_a_date_time_and_text_as_typed():
    notice = FailedNotice(
        ref="ev-1", agency="SCT", procedure_code="1.001", procedure_name=" <Cấp> & \x01phép ",
        receipt_no="000123", masked_number="8490*****11", reason="landline",
        state="rejected", at=datetime(2026, 11, 20, 9, 30, 15, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")),
    )  # fmt: skip
    table = failed_table([notice], NAMES, ZoneInfo("Asia/Ho_Chi_Minh"))
    sheet = load_workbook(io.BytesIO(to_xlsx(table))).active
    header = [c.value for c in sheet[1]]
    values = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    at = sheet.cell(row=2, column=header.index("Thời điểm") + 1)

    assert at.value == datetime(2026, 11, 20, 9, 30, 15)
    assert at.number_format == "yyyy-mm-dd hh:mm:ss"
    assert values["Số biên nhận"] == "000123"  # text, its leading noughts kept
    assert values["Thủ tục"] == " <Cấp> & phép "  # its spaces kept, no control character


def _many_failed(count: int) -> Table:
    notice = FailedNotice(
        ref="ev-1", agency="SCT", procedure_code="1.001", procedure_name="x",
        receipt_no="000123", masked_number="8490*****11", reason="landline",
        state="rejected", at=datetime(2026, 11, 20, 9, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")),
    )  # fmt: skip
    return failed_table([notice] * count, NAMES, ZoneInfo("Asia/Ho_Chi_Minh"))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_told_to_stop_gives_up_instead_of_writing_on(fmt):
    stop = threading.Event()
    stop.set()

    with pytest.raises(Stopped):
        render(_many_failed(5000), fmt, stop)


async def test_a_cancelled_export_waits_for_its_thread_to_give_up():
    table = _many_failed(500_000)
    writing = asyncio.create_task(rendered(lambda: table, "xlsx"))
    await asyncio.sleep(0.3)  # the thread is writing rows
    writing.cancel()
    done, _ = await asyncio.wait({writing}, timeout=5)  # not the whole workbook's seconds

    assert done == {writing} and writing.cancelled()
