"""The console's pages and exports: the overview, the table per procedure, the failed
notices, and any of their tables as CSV or .xlsx.

Each reads its query strictly (`query.read_query`: 400 and 403 before the store is asked),
then asks the store's figures for the agencies the user may see, never more.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import date, timedelta
from html import escape
from typing import cast, get_args

from aiohttp import web

from gateway.console.chart import LEGEND, DayPoint, chart_svg
from gateway.console.context import CONSOLE, Console, html, needs_session
from gateway.console.export import CONTENT_TYPES, Format, rendered
from gateway.console.pages import (
    cell_text,
    export_links,
    filter_form,
    layout,
    pager,
    summary,
    table_html,
)
from gateway.console.query import MAX_PAGE, Query, Refusal, read_query
from gateway.console.tables import (
    REASONS,
    Column,
    Table,
    failed_table,
    overview_table,
    procedure_sorts,
    procedure_table,
)
from gateway.settings.console import ConsoleUser
from gateway.store.figures import FigureRow

PERIOD = ("from", "to", "agency")
SORTED = (*PERIOD, "sort", "order")
PAGED = (*PERIOD, "page")
# Failed notices on one page, and at most in one export.
PAGE_SIZE = 200
EXPORT_MAX = 100_000
TOO_MANY = (
    "Khoảng này có hơn {limit} thông báo không đến được: một tệp tải về chứa tối đa "
    "{limit} dòng. Hãy thu hẹp khoảng ngày (chẳng hạn từng tháng) hoặc chọn một cơ quan."
)


def _scope(query: Query, user: ConsoleUser) -> Collection[str] | None:
    """The agencies to ask the store for: None (every one) only for a supervisor who
    named none."""
    if user.role == "supervisor" and query.agency is None:
        return None
    return query.agencies


def _query(request: web.Request, user: ConsoleUser, allowed: Sequence[str]) -> Query:
    console = request.app[CONSOLE]
    sorts = procedure_sorts() if "sort" in allowed else ()
    return read_query(
        request.query,
        allowed=allowed,
        user=user,
        agencies=console.agencies,
        today=console.today(),
        sorts=sorts,
    )


def _days(since: date, until: date) -> list[date]:
    return [since + timedelta(days=i) for i in range((until - since).days + 1)]


def _points(rows: Sequence[FigureRow], days: Sequence[date]) -> list[DayPoint]:
    by_day = {r.day: r for r in rows}
    points = []
    for day in days:
        row = by_day.get(day)
        points.append(
            DayPoint(day, row.dossiers_resolved, row.notices_delivered, row.not_delivered_total)
            if row is not None
            else DayPoint(day, 0, 0, 0)
        )
    return points


def _headline(rows: Sequence[FigureRow]) -> str:
    resolved = sum(r.dossiers_resolved for r in rows)
    delivered = sum(r.notices_delivered for r in rows)
    failed = sum(r.not_delivered_total for r in rows)
    results = sum(r.results_delivered for r in rows)
    ratio = results / resolved if resolved else None
    share = failed / (delivered + failed) if delivered + failed else None
    percent = Column("ratio", "", "ratio")
    return summary(
        [
            ("hồ sơ đã giải quyết", cell_text(Column("n", ""), resolved)),
            ("thông báo đã đến người dân", cell_text(Column("n", ""), delivered)),
            ("thông báo không đến được", cell_text(Column("n", ""), failed)),
            ("tỉ lệ báo kết quả / đã giải quyết", cell_text(percent, ratio)),
            ("tỉ lệ không đến được", cell_text(percent, share)),
        ]
    )


async def overview(request: web.Request) -> web.StreamResponse:
    session = needs_session(request)
    console = request.app[CONSOLE]
    query = _query(request, session.user, PERIOD)
    rows = await console.figures.table(
        query.since, query.until, ("agency", "day"), _scope(query, session.user)
    )
    days = _days(query.since, query.until)
    charts = []
    for code in sorted({r.agency for r in rows if r.agency is not None}, key=str):
        mine = [r for r in rows if r.agency == code]
        name = console.agencies.get(code, code)
        charts.append(
            f'<section class="chart-box" data-agency="{escape(code)}"><h3>{escape(name)}</h3>'
            f"{_headline(mine)}{chart_svg(f'{name}: theo ngày', _points(mine, days))}</section>"
        )
    if not charts:
        charts.append('<p class="empty">Không có số liệu trong khoảng này.</p>')
    table = overview_table(rows, console.agencies)
    body = (
        filter_form("/", query, console.agencies, session.user)
        + _headline(rows)
        + LEGEND
        + "".join(charts)
        + f"<h3>{table.title}</h3>"
        + export_links(table, query)
        + table_html(table)
    )
    page = layout("Tổng quan", body, user=session.user, csrf=session.csrf, path="/")
    return html(page)


async def _procedures(console: Console, query: Query, user: ConsoleUser) -> Table:
    rows = await console.figures.table(
        query.since, query.until, ("agency", "procedure"), _scope(query, user)
    )
    return procedure_table(rows, console.agencies).sorted_by(query.sort, query.descending)


async def procedures(request: web.Request) -> web.StreamResponse:
    session = needs_session(request)
    console = request.app[CONSOLE]
    query = _query(request, session.user, SORTED)
    table = await _procedures(console, query, session.user)
    hidden = ""
    if query.sort:
        order = "desc" if query.descending else "asc"
        hidden = (
            f'<input type="hidden" name="sort" value="{query.sort}">'
            f'<input type="hidden" name="order" value="{order}">'
        )
    body = (
        filter_form("/thu-tuc", query, console.agencies, session.user, hidden)
        + '<p class="hint">Bấm vào tiêu đề cột để sắp xếp. Ô tỉ lệ được tô màu khi số '
        "thông báo đến được người dân ít hơn số hồ sơ đã giải quyết.</p>"
        + export_links(table, query)
        + table_html(table, sortable=query, path="/thu-tuc")
    )
    page = layout("Theo thủ tục", body, user=session.user, csrf=session.csrf, path="/thu-tuc")
    return html(page)


async def _failed(
    console: Console, query: Query, user: ConsoleUser, limit: int, offset: int
) -> Table:
    notices = await console.figures.failed(
        query.since, query.until, _scope(query, user), limit=limit, offset=offset
    )
    return failed_table(notices, console.agencies, console.zone)


def _reasons(rows: Sequence[FigureRow]) -> str:
    items = []
    for reason, text in REASONS.items():
        count = sum(r.not_delivered.get(reason, 0) for r in rows)
        if count:
            items.append((text[0].lower() + text[1:], cell_text(Column("n", ""), count)))
    return summary(items) if items else ""


async def failed(request: web.Request) -> web.StreamResponse:
    session = needs_session(request)
    console = request.app[CONSOLE]
    query = _query(request, session.user, PAGED)
    table = await _failed(console, query, session.user, PAGE_SIZE + 1, query.page * PAGE_SIZE)
    more = len(table.rows) > PAGE_SIZE and query.page + 1 < MAX_PAGE
    shown = Table(table.name, table.title, table.columns, table.rows[:PAGE_SIZE])
    totals = await console.figures.table(
        query.since, query.until, ("agency",), _scope(query, session.user)
    )
    body = (
        filter_form("/thong-bao-loi", query, console.agencies, session.user)
        + _reasons(totals)
        + '<p class="hint">Số điện thoại được che bớt. Bộ phận một cửa dùng số biên nhận '
        "để tìm hồ sơ và sửa số đã nhập.</p>"
        + export_links(table, query)
        + table_html(shown)
        + pager("/thong-bao-loi", query, more)
    )
    page = layout(
        "Thông báo không đến được", body, user=session.user, csrf=session.csrf,
        path="/thong-bao-loi",
    )  # fmt: skip
    return html(page)


async def _all_failed(console: Console, query: Query, user: ConsoleUser) -> Callable[[], Table]:
    """Every failed notice of the period, read by one query (one snapshot of the store:
    chunks read apart could miss a row or hold one twice as the daemon writes), and how to
    make their table (on the export's thread); a period of more than EXPORT_MAX is
    refused, naming the limit and how to narrow it, never cut short."""
    notices = await console.figures.failed(
        query.since, query.until, _scope(query, user), limit=EXPORT_MAX + 1, offset=0
    )
    if len(notices) > EXPORT_MAX:
        raise Refusal(400, TOO_MANY.format(limit=f"{EXPORT_MAX:,}".replace(",", ".")))
    return lambda: failed_table(notices, console.agencies, console.zone)


EXPORTS = ("tong-quan", "thu-tuc", "thong-bao-loi")


async def export(request: web.Request) -> web.StreamResponse:
    session = needs_session(request)
    console = request.app[CONSOLE]
    name, fmt = request.match_info["name"], request.match_info["fmt"]
    if name not in EXPORTS or fmt not in get_args(Format):
        raise Refusal(404, "Không có bảng này để tải.")
    allowed = {"tong-quan": PERIOD, "thu-tuc": SORTED, "thong-bao-loi": PERIOD}[name]
    query = _query(request, session.user, allowed)
    if name == "tong-quan":
        rows = await console.figures.table(
            query.since, query.until, ("agency", "day"), _scope(query, session.user)
        )
        overview = overview_table(rows, console.agencies)
        build: Callable[[], Table] = lambda: overview  # noqa: E731
    elif name == "thu-tuc":
        procedures = await _procedures(console, query, session.user)
        build = lambda: procedures  # noqa: E731
    else:
        build = await _all_failed(console, query, session.user)
    scope = f"_{query.agency}" if query.agency else ""
    filename = f"{name}_{query.since.isoformat()}_{query.until.isoformat()}{scope}.{fmt}"
    # A file of 100,000 rows is seconds of work: on a thread, never on the loop that
    # serves every other user, and in a slot of the gate like the reads.
    body = await console.gate.run(lambda: rendered(build, cast(Format, fmt)))
    return web.Response(
        body=body,
        headers={
            "Content-Type": CONTENT_TYPES[fmt],
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
    )
