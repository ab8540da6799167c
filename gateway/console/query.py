"""What a page is asked for: the query string read strictly, and who may see it.

Every page and export takes the same few parameters; anything else in the query (a typo,
a parameter of another page, a repeated one) is refused with 400 rather than ignored, so a
bookmarked link never silently shows something other than it says. An agency user naming
another agency gets 403 before anything is read from the store.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from multidict import MultiMapping

from gateway.settings.console import ConsoleUser

# The longest period one page covers: a year (a leap year's included).
MAX_DAYS = 366
# Dates outside these are typing errors, not periods anyone has figures for.
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)
# The period shown when none is asked for: the last 30 days up to today.
DEFAULT_DAYS = 30
# The deepest page of failed notices (of 200): a page is read `LIMIT ? OFFSET ?`, and an
# offset of millions is a scan of seconds for every click. Beyond it: a narrower period,
# one agency, or the export.
MAX_PAGE = 50
_PAGE = re.compile(r"[0-9]{1,4}")


class Refusal(Exception):
    """A request answered with `status` and `message` (Vietnamese) instead of a page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Query:
    """A period, the agencies in it, and (for sortable tables) the order and page."""

    since: date
    until: date
    agency: str | None
    agencies: tuple[str, ...]
    sort: str | None = None
    descending: bool = False
    page: int = 0

    def link(self, **changes: str | None) -> str:
        """This query as a query string, with `changes` (None drops a parameter)."""
        params: dict[str, str | None] = {
            "from": self.since.isoformat(),
            "to": self.until.isoformat(),
            "agency": self.agency,
        }
        params.update(changes)
        return urlencode({k: v for k, v in params.items() if v})


def _one(params: MultiMapping[str], name: str) -> str | None:
    values = params.getall(name, [])
    if len(values) > 1:
        raise Refusal(400, f"Tham số “{name}” chỉ được ghi một lần.")
    return values[0].strip() if values else None


def _day(params: MultiMapping[str], name: str, default: date) -> date:
    written = _one(params, name)
    if not written:
        return default
    try:
        day = date.fromisoformat(written)
    except ValueError:
        raise Refusal(
            400, f"Ngày “{written[:20]}” không hợp lệ: hãy ghi theo dạng NNNN-TT-NN."
        ) from None
    if not EARLIEST <= day <= LATEST:
        raise Refusal(
            400,
            f"Ngày {day.isoformat()} nằm ngoài khoảng {EARLIEST.isoformat()} đến "
            f"{LATEST.isoformat()}.",
        )
    return day


def read_query(
    params: MultiMapping[str],
    *,
    allowed: Collection[str],
    user: ConsoleUser,
    agencies: Mapping[str, str],
    today: date,
    sorts: Collection[str] = (),
) -> Query:
    """The query of a page taking parameters `allowed` (of from, to, agency, sort, order,
    page), for `user`; `agencies` are the configured ones (code -> name).

    Raises:
        Refusal: 400 for an unknown, repeated or malformed parameter or an absurd period;
            403 for an agency the user may not see.
    """
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        shown = ", ".join(f"“{name[:30]}”" for name in unknown[:5])
        raise Refusal(400, f"Tham số không được hỗ trợ: {shown}.")
    until = _day(params, "to", today)
    since = _day(params, "from", until - timedelta(days=DEFAULT_DAYS - 1))
    if until < since:
        raise Refusal(400, "Ngày kết thúc đứng trước ngày bắt đầu.")
    if (until - since).days + 1 > MAX_DAYS:
        raise Refusal(400, f"Khoảng thời gian dài quá {MAX_DAYS} ngày: hãy chọn ngắn hơn.")
    agency = _one(params, "agency") or None
    if agency is not None and agency not in agencies:
        raise Refusal(400, f"Không có cơ quan mã “{agency[:30]}”.")
    if agency is not None and not user.sees(agency):
        raise Refusal(403, "Tài khoản này chỉ được xem số liệu của cơ quan mình.")
    if agency is not None:
        seen: tuple[str, ...] = (agency,)
    else:
        seen = tuple(code for code in agencies if user.sees(code))
    sort = _one(params, "sort") or None
    if sort is not None and sort not in sorts:
        raise Refusal(400, f"Không sắp xếp được theo cột “{sort[:30]}”.")
    order = _one(params, "order") or "asc"
    if order not in ("asc", "desc"):
        raise Refusal(400, "Thứ tự sắp xếp là “asc” (tăng dần) hoặc “desc” (giảm dần).")
    written_page = _one(params, "page") or "1"
    # ASCII digits only: str.isdigit() holds for "²" (which int() refuses) and int()
    # reads "٣" (Arabic-Indic three), neither a page number anyone typed.
    if not _PAGE.fullmatch(written_page) or not 1 <= int(written_page) <= MAX_PAGE:
        raise Refusal(
            400,
            f"Số trang phải là số từ 1 đến {MAX_PAGE}. Để xem sâu hơn, hãy thu hẹp khoảng "
            "ngày hoặc chọn một cơ quan, hoặc tải cả bảng về (CSV, Excel).",
        )
    return Query(
        since=since,
        until=until,
        agency=agency,
        agencies=seen,
        sort=sort,
        descending=order == "desc",
        page=int(written_page) - 1,
    )
