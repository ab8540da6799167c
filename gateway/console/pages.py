"""The console's HTML, in Vietnamese: the layout, the filter, tables, login and refusals.

Built with `html.escape` on every value that comes from the store or the request (a
procedure name typed by a desk is text, never markup). No script anywhere and no inline
style: the CSP forbids both, and the stylesheet is served by the console itself. Forms
that change something (login, logout) are POST and carry a CSRF token; the filter is a GET
form that changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from html import escape

from gateway.console.query import Query
from gateway.console.tables import Cell, Column, Table, is_short
from gateway.settings.console import ConsoleUser

NAV: tuple[tuple[str, str], ...] = (
    ("/", "Tổng quan"),
    ("/thu-tuc", "Theo thủ tục"),
    ("/thong-bao-loi", "Thông báo không đến được"),
)


def _count(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def cell_text(column: Column, value: Cell) -> str:
    """A cell as the page shows it (Vietnamese number and date forms)."""
    if value is None:
        return "–"
    if column.kind == "ratio" and isinstance(value, float):
        return f"{value * 100:.1f} %".replace(".", ",")
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return _count(value)
    return str(value)


def layout(title: str, body: str, *, user: ConsoleUser | None, csrf: str | None, path: str) -> str:
    """A whole page: head, navigation (for a logged-in user), `body`."""
    nav = ""
    if user is not None and csrf is not None:
        links = "".join(
            f'<a href="{href}"{" aria-current=page" if href == path else ""}>{escape(text)}</a>'
            for href, text in NAV
        )
        who = "giám sát" if user.role == "supervisor" else f"cơ quan {user.agency}"
        nav = (
            f'<nav><div class="links">{links}</div><form method="post" action="/dang-xuat" '
            f'class="logout"><span class="who">{escape(user.name)} ({escape(who)})</span>'
            f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
            '<button type="submit">Đăng xuất</button></form></nav>'
        )
    return (
        '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} – motcua-sms</title>"
        '<link rel="stylesheet" href="/static/console.css"></head><body>'
        f"<header><h1>Thông báo SMS một cửa</h1>{nav}</header><main>"
        f"<h2>{escape(title)}</h2>{body}</main></body></html>"
    )


def filter_form(
    path: str, query: Query, agencies: Mapping[str, str], user: ConsoleUser, extra: str = ""
) -> str:
    """The period and agency filter (GET: it changes nothing)."""
    options = []
    if user.role == "supervisor":
        options.append('<option value="">Tất cả cơ quan</option>')
    for code, name in agencies.items():
        if user.sees(code):
            chosen = " selected" if code == query.agency else ""
            options.append(f'<option value="{escape(code)}"{chosen}>{escape(name)}</option>')
    return (
        f'<form method="get" action="{path}" class="filter" id="filter">'
        f'<label>Từ ngày <input type="date" name="from" id="from" required '
        f'value="{query.since.isoformat()}"></label>'
        f'<label>Đến ngày <input type="date" name="to" id="to" required '
        f'value="{query.until.isoformat()}"></label>'
        f'<label>Cơ quan <select name="agency" id="agency">{"".join(options)}</select></label>'
        f'{extra}<button type="submit" id="apply">Xem</button></form>'
    )


def export_links(table: Table, query: Query) -> str:
    order = {"sort": query.sort, "order": "desc" if query.descending else None}
    q = escape(query.link(**order))
    return (
        '<p class="exports">Tải bảng này: '
        f'<a class="export" id="export-{table.name}-csv" href="/xuat/{table.name}.csv?{q}">'
        "CSV</a> · "
        f'<a class="export" id="export-{table.name}-xlsx" href="/xuat/{table.name}.xlsx?{q}">'
        "Excel (.xlsx)</a></p>"
    )


def _header(column: Column, query: Query | None, path: str) -> str:
    label = escape(column.label)
    if query is None:
        return f"<th>{label}</th>"
    descending = query.sort == column.key and not query.descending
    link = escape(query.link(sort=column.key, order="desc" if descending else "asc"))
    mark = ""
    if query.sort == column.key:
        mark = " ▼" if query.descending else " ▲"
    sort = "descending" if query.descending else "ascending"
    aria = f' aria-sort="{sort}"' if query.sort == column.key else ""
    return f'<th{aria}><a href="{path}?{link}" data-sort="{column.key}">{label}{mark}</a></th>'


def table_html(table: Table, *, sortable: Query | None = None, path: str = "") -> str:
    """The table, its ratio cells marked where notices fall short; with `sortable`, its
    headers are links that sort by their column."""
    if not table.rows:
        return '<p class="empty">Không có số liệu trong khoảng này.</p>'
    head = "".join(_header(c, sortable, path) for c in table.columns)
    # Each column's opening tag once, not per cell: a year's table has tens of thousands.
    columns = [(c, f'<td class="{c.kind}" data-key="{c.key}">') for c in table.columns]
    short = '<td class="ratio short" data-key="{key}">{text} <span class="flag">thiếu</span></td>'
    body = []
    for row in table.rows:
        cells = []
        for (column, opening), value in zip(columns, row, strict=True):
            # A count is digits and dots: nothing to escape.
            text = _count(value) if type(value) is int else escape(cell_text(column, value))
            if column.kind == "ratio" and is_short(value):
                cells.append(short.format(key=column.key, text=text))
            else:
                cells.append(f"{opening}{text}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f'<div class="scroll"><table id="table-{table.name}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def pager(path: str, query: Query, more: bool) -> str:
    links = []
    if query.page > 0:
        links.append(f'<a href="{path}?{escape(query.link(page=str(query.page)))}">‹ Trước</a>')
    links.append(f"<span>Trang {query.page + 1}</span>")
    if more:
        links.append(
            f'<a href="{path}?{escape(query.link(page=str(query.page + 2)))}" id="next">Sau ›</a>'
        )
    return f'<p class="pager">{" ".join(links)}</p>'


def login_page(csrf: str, *, message: str | None = None, next_path: str = "/") -> str:
    note = f'<p class="refusal" role="alert">{escape(message)}</p>' if message else ""
    body = (
        f'{note}<form method="post" action="/dang-nhap" class="login" id="login">'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
        f'<input type="hidden" name="next" value="{escape(next_path)}">'
        '<label>Tên đăng nhập <input name="user" id="user" autocomplete="username" required>'
        '</label><label>Mật khẩu <input type="password" name="password" id="password" '
        'autocomplete="current-password" required></label>'
        '<button type="submit" id="sign-in">Đăng nhập</button></form>'
    )
    return layout("Đăng nhập", body, user=None, csrf=None, path="/dang-nhap")


def refusal_page(status: int, message: str, *, user: ConsoleUser | None, csrf: str | None) -> str:
    back = '<p><a href="/">Về trang tổng quan</a></p>' if user is not None else ""
    body = f'<p class="refusal" role="alert" data-status="{status}">{escape(message)}</p>{back}'
    return layout(f"Không thực hiện được ({status})", body, user=user, csrf=csrf, path="")


def summary(items: Sequence[tuple[str, str]]) -> str:
    """A row of headline figures above a chart."""
    cells = "".join(
        f'<div><span class="figure">{escape(v)}</span> {escape(k)}</div>' for k, v in items
    )
    return f'<div class="summary">{cells}</div>'
