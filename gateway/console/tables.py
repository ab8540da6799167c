"""The console's tables, once for the page and the exports: columns, Vietnamese labels, rows.

A `Table` is what a page shows and what CSV and .xlsx carry, so an export always holds the
same columns and rows as the page it was asked from (sorted the same way, the ratio as a
number, not a coloured cell).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from gateway.store.figures import NOT_DELIVERED, FailedNotice, FigureRow

Kind = Literal["text", "count", "ratio", "day", "time", "money"]
Cell = str | int | float | date | datetime | None

# Delivered / resolved below this is highlighted: fewer notices reached citizens than
# dossiers were resolved.
SHORT_BELOW = 1.0

# Why a notice did not reach the citizen, in the words a desk acts on.
REASONS: Mapping[str, str] = {
    "landline": "Số máy bàn (không nhận được SMS)",
    "invalid_number": "Số điện thoại không hợp lệ",
    "no_number": "Hồ sơ không có số điện thoại",
    "undeliverable": "Nhà mạng không chuyển được tin",
    "expired": "Quá hạn mà chưa chuyển được",
    "failed": "Gửi lỗi",
}
STATES: Mapping[str, str] = {
    "rejected": "Bị từ chối",
    "undeliverable": "Không chuyển được",
    "expired": "Hết hạn",
    "failed": "Lỗi",
}


def reason_text(reason: str) -> str:
    """A reason in Vietnamese (one the console does not know yet, as the store has it)."""
    return REASONS.get(reason, reason)


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    kind: Kind = "count"


@dataclass(frozen=True, slots=True)
class Table:
    """A titled grid: `name` is its part of an export's file name."""

    name: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]

    def index(self, key: str) -> int:
        return next(i for i, c in enumerate(self.columns) if c.key == key)

    def sorted_by(self, key: str | None, descending: bool) -> Table:
        """The rows in the order of column `key` (missing values last either way)."""
        if key is None:
            return self
        i = self.index(key)
        present = [r for r in self.rows if r[i] is not None]
        absent = [r for r in self.rows if r[i] is None]
        present.sort(key=lambda r: _order(r[i]), reverse=descending)
        return Table(self.name, self.title, self.columns, (*present, *absent))


def _order(value: Cell) -> tuple[int, float | str]:
    if isinstance(value, int | float):
        return (0, float(value))
    if isinstance(value, date):  # datetime too
        return (0, value.toordinal() if not isinstance(value, datetime) else value.timestamp())
    return (1, str(value).casefold())


def _reasons(row: FigureRow) -> tuple[Cell, ...]:
    return tuple(row.not_delivered[reason] for reason in NOT_DELIVERED)


_COUNTS: tuple[Column, ...] = (
    Column("dossiers_received", "Hồ sơ tiếp nhận"),
    Column("dossiers_resolved", "Hồ sơ đã giải quyết"),
    Column("notices_queued", "Thông báo đã lập"),
    Column("notices_delivered", "Thông báo đã đến người dân"),
    Column("results_delivered", "Thông báo kết quả đã đến"),
    Column("not_delivered", "Không đến được"),
    # The store's reasons, in its order: one it adds without a text here fails at import.
    *(Column(f"not_delivered_{r}", f"– {REASONS[r]}") for r in NOT_DELIVERED),
    Column("ratio", "Tỉ lệ báo kết quả / đã giải quyết", "ratio"),
    Column("lookups_answered", "Tra cứu MCKH đã trả lời"),
    Column("segments", "Số tin SMS"),
    Column("cost_vnd", "Chi phí SMS (đồng)", "money"),
    # Per channel, after the columns above: an export's columns keep their places.
    Column("zalo_delivered", "Thông báo đã đến qua Zalo"),
    Column("zalo_fallbacks", "Thông báo Zalo chuyển sang SMS"),
    Column("emails_sent", "Thư điện tử đã gửi"),
    Column("emails_failed", "Thư điện tử gửi lỗi"),
    Column("zalo_cost_vnd", "Chi phí Zalo (đồng)", "money"),
    Column("total_cost_vnd", "Tổng chi phí (đồng)", "money"),
)


def _counts(row: FigureRow) -> tuple[Cell, ...]:
    return (
        row.dossiers_received,
        row.dossiers_resolved,
        row.notices_queued,
        row.notices_delivered,
        row.results_delivered,
        row.not_delivered_total,
        *_reasons(row),
        row.delivered_ratio,
        row.lookups_answered,
        row.segments,
        row.cost_vnd,
        row.zalo_delivered,
        row.zalo_fallbacks,
        row.emails_sent,
        row.emails_failed,
        row.zalo_cost_vnd,
        row.total_cost_vnd,
    )


def _agency(names: Mapping[str, str]) -> Callable[[str | None], str]:
    return lambda code: "" if code is None else names.get(code, code)


# What the store's figures call the messages of no procedure (SMS jobs, MCKH replies).
NO_PROCEDURE = "(tin nhắn không thuộc thủ tục nào)"


def _procedure(row: FigureRow) -> str | None:
    if row.procedure_code == "":
        return NO_PROCEDURE
    return row.procedure_name or row.procedure_code


def overview_table(rows: Sequence[FigureRow], names: Mapping[str, str]) -> Table:
    """Per agency and day (the overview's figures under its chart)."""
    agency = _agency(names)
    return Table(
        name="tong-quan",
        title="Tổng quan theo cơ quan và ngày",
        columns=(Column("agency", "Cơ quan", "text"), Column("day", "Ngày", "day"), *_COUNTS),
        rows=tuple((agency(r.agency), r.day, *_counts(r)) for r in rows),
    )


def procedure_table(rows: Sequence[FigureRow], names: Mapping[str, str]) -> Table:
    """Per agency and procedure (a procedure is its code at an agency)."""
    agency = _agency(names)
    return Table(
        name="thu-tuc",
        title="Theo thủ tục",
        columns=(
            Column("agency", "Cơ quan", "text"),
            Column("procedure_code", "Mã thủ tục", "text"),
            Column("procedure_name", "Tên thủ tục", "text"),
            *_COUNTS,
        ),
        rows=tuple(
            (agency(r.agency), r.procedure_code or None, _procedure(r), *_counts(r)) for r in rows
        ),
    )


def failed_table(
    notices: Sequence[FailedNotice], names: Mapping[str, str], zone: ZoneInfo
) -> Table:
    """The notices of a period that did not reach the citizen, for the desk to correct."""
    agency = _agency(names)
    return Table(
        name="thong-bao-loi",
        title="Thông báo không đến được người dân",
        columns=(
            Column("at", "Thời điểm", "time"),
            Column("agency", "Cơ quan", "text"),
            Column("receipt_no", "Số biên nhận", "text"),
            Column("procedure", "Thủ tục", "text"),
            Column("masked_number", "Số điện thoại (che bớt)", "text"),
            Column("reason", "Lý do", "text"),
            Column("state", "Trạng thái", "text"),
            Column("ref", "Mã tin", "text"),
        ),
        rows=tuple(
            (
                n.at.astimezone(zone).replace(tzinfo=None),
                agency(n.agency),
                n.receipt_no,
                n.procedure_name or n.procedure_code,
                n.masked_number,
                reason_text(n.reason),
                STATES.get(n.state, n.state),
                n.ref,
            )
            for n in notices
        ),
    )


def procedure_sorts() -> tuple[str, ...]:
    """The columns the procedure table may be sorted by."""
    return tuple(c.key for c in procedure_table((), {}).columns)


def is_short(ratio: Cell) -> bool:
    """Whether a ratio cell shows notices falling short of resolved dossiers."""
    return isinstance(ratio, float) and ratio < SHORT_BELOW
