"""A `Table` as CSV or as an Excel workbook (.xlsx), the columns and rows of its page.

CSV is UTF-8 with a byte order mark, which is what makes Excel read Vietnamese letters
as such rather than as mojibake; a text cell that a spreadsheet would take for a formula
(it begins with = + - @, a tab or a carriage return: a procedure name typed by a desk, say)
is written with a leading apostrophe, so opening an export can never run one. In the
workbook (`xlsx`) text cells are inline strings, never formulas whatever they begin
with; counts are numbers, the ratio a percentage, days dates.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Literal

from gateway.console.tables import Cell, Column, Table
from gateway.console.xlsx import workbook

Format = Literal["csv", "xlsx"]
CONTENT_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _guarded(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_cell(column: Column, value: Cell) -> str:
    if value is None:
        return ""
    if column.kind == "ratio" and isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return _guarded(value)
    return str(value)


def to_csv(table: Table) -> bytes:
    """The table as CSV (a header line of the labels, then its rows)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.label for c in table.columns])
    for row in table.rows:
        writer.writerow([_csv_cell(c, v) for c, v in zip(table.columns, row, strict=True)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(table: Table) -> bytes:
    """The table as a one-sheet workbook: the labels in bold, then its rows (`xlsx`)."""
    labels = [c.label for c in table.columns]
    return workbook(table.title, labels, [c.kind for c in table.columns], table.rows)


def render(table: Table, fmt: Format) -> bytes:
    return to_csv(table) if fmt == "csv" else to_xlsx(table)
