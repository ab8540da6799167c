"""A `Table` as CSV or as an Excel workbook (.xlsx), the columns and rows of its page.

CSV is UTF-8 with a byte order mark, which is what makes Excel read Vietnamese letters
as such rather than as mojibake; a text cell that a spreadsheet would take for a formula
(it begins with = + - @, a tab or a carriage return: a procedure name typed by a desk, say)
is written with a leading apostrophe, so opening an export can never run one. In the
workbook (`xlsx`) text cells are inline strings, never formulas whatever they begin
with; counts are numbers, the ratio a percentage, days dates.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import threading
from collections.abc import Callable, Iterator, Sequence
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


class Stopped(Exception):
    """An export given up while written (its request gone, the console stopping)."""


# Rows written between two looks at the stop flag.
_STOP_EVERY = 1000


def _rows(table: Table, stop: threading.Event | None) -> Iterator[Sequence[Cell]]:
    """The table's rows, Stopped once `stop` is set: a thread cannot be cancelled, so a
    workbook of seconds gives up by itself rather than keep a SIGTERM waiting."""
    for number, row in enumerate(table.rows):
        if stop is not None and number % _STOP_EVERY == 0 and stop.is_set():
            raise Stopped
        yield row


def to_csv(table: Table, stop: threading.Event | None = None) -> bytes:
    """The table as CSV (a header line of the labels, then its rows)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.label for c in table.columns])
    for row in _rows(table, stop):
        writer.writerow([_csv_cell(c, v) for c, v in zip(table.columns, row, strict=True)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(table: Table, stop: threading.Event | None = None) -> bytes:
    """The table as a one-sheet workbook: the labels in bold, then its rows (`xlsx`)."""
    labels = [c.label for c in table.columns]
    kinds = [c.kind for c in table.columns]
    return workbook(table.title, labels, kinds, _rows(table, stop))


def render(table: Table, fmt: Format, stop: threading.Event | None = None) -> bytes:
    """The table in `fmt`; Stopped when `stop` is set meanwhile."""
    return to_csv(table, stop) if fmt == "csv" else to_xlsx(table, stop)


def _built(build: Callable[[], Table], fmt: Format, stop: threading.Event) -> bytes:
    return render(build(), fmt, stop)


async def rendered(build: Callable[[], Table], fmt: Format) -> bytes:
    """The table `build()` makes, in `fmt`, both on a thread, off the event loop (100,000
    rows are a second of building cells before any byte is written). Cancelled, it tells
    the thread to stop and waits for it (a few rows), so whoever bounds the work in
    flight (`gate`) counts the thread until it has really ended."""
    stop = threading.Event()
    work = asyncio.get_running_loop().run_in_executor(None, _built, build, fmt, stop)
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        stop.set()
        with contextlib.suppress(Stopped):
            await work
        raise
