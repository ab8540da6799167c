"""MCKH <receipt number>: where the dossier stands and whether it is on time.

The reply is SPEC's text (or the agency's `mckh_reply` override) with the agency's
diacritics policy. It aims at one SMS segment and never spills into a third: a long
step name is shortened first, because the citizen pays for the lookup, not for the
reply's length, and the office pays for every segment.

A receipt number is unique within one agency only. When a number matches dossiers at
several agencies, the reply answers for each in one compact line naming the agency
(the citizen may have filed at both, and cannot say which is meant), shortened the same
way.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from gateway.compose.templates import format_date, render, template_for
from gateway.domain.dossier import FINISHED_STATUSES, DossierRow
from gateway.domain.mirror import receipt_key
from gateway.domain.timeliness import timeliness
from gateway.mo.dispatcher import Context, Reply, Request
from gateway.mo.text import receipt_numbers
from gateway.phone.numbers import is_phone_number
from gateway.smpp.text import segment_count

SYNTAX = "MCKH <Mã số biên nhận>"
PURPOSE = "tra cứu tình trạng hồ sơ"

MISSING = "Quý Ông/Bà chưa nhập mã số biên nhận. Soạn: {syntax} gửi {shortcode}"
NOT_FOUND = (
    "Không tìm thấy hồ sơ có mã số {number}. Quý Ông/Bà vui lòng kiểm tra lại. "
    "Soạn: {syntax} gửi {shortcode}"
)
# Several numbers in one MO: one compact line each, so the answer stays short.
LINE_FOUND = "HS {receipt_no}: {step}, {timeliness}."
# One number, several agencies: a line each, naming the agency.
LINE_AGENCY = "HS {receipt_no} ({agency_name}): {step}, {timeliness}."
LINE_NOT_FOUND = "HS {number}: không tìm thấy."
TOO_MANY = "Mỗi tin tra cứu tối đa {limit} hồ sơ."

# A typo'd number is repeated so the citizen sees it; a paste of a whole paragraph is not.
ECHO_LIMIT = 40
# Shortened to reach one segment, a step name keeps at least this many characters;
# to stay within two segments it may lose more.
STEP_KEEP = 20
ELLIPSIS = "..."


async def handle(request: Request, context: Context) -> Reply:
    limit = context.config.mo.max_lookups
    numbers, left_out = receipt_numbers(request.argument, limit)
    if not numbers:
        return Reply(MISSING.format(syntax=SYNTAX, shortcode=request.shortcode))
    found = await context.dossiers.lookup([receipt_key(n) for n in numbers])
    # A telephone number in the text is not a receipt, unless a dossier has it as one.
    numbers = [n for n in numbers if found.get(receipt_key(n)) or not is_phone_number(n)]
    if not numbers:
        return Reply(MISSING.format(syntax=SYNTAX, shortcode=request.shortcode))
    matches = [found.get(receipt_key(n), []) for n in numbers]
    first = next((rows[0] for rows in matches if rows), None)
    if len(numbers) == 1 and not left_out:
        (rows,) = matches
        if not rows:
            return Reply(not_found(numbers[0], request.shortcode))
        if len(rows) == 1:
            return Reply(
                one(rows[0], context), agency=rows[0].agency, receipt_no=rows[0].receipt_no
            )
    steps = [row.step for rows in matches for row in rows]
    strip = _strips(first.agency if first else None, context)

    def make(keep: int | None) -> str:
        lines = []
        for number, rows in zip(numbers, matches, strict=True):
            if not rows:
                lines.append(LINE_NOT_FOUND.format(number=_echo(number)))
            for row in rows:
                line = LINE_AGENCY if len(rows) > 1 else LINE_FOUND
                lines.append(
                    line.format(
                        receipt_no=row.receipt_no,
                        agency_name=_agency_name(row, context),
                        step=_cut(row.step, keep),
                        timeliness=_timeliness(row, context.today),
                    )
                )
        if left_out:
            lines.append(TOO_MANY.format(limit=limit))
        # As the composer will send it, so that segments are counted right.
        return render("{text}", {"text": " ".join(lines)}, strip=strip)

    text = _fit(make, max(map(len, steps), default=0))
    receipt_no = first.receipt_no if first is not None and len(numbers) == 1 else None
    return Reply(text, agency=first.agency if first else None, receipt_no=receipt_no)


def one(row: DossierRow, context: Context) -> str:
    agency = context.config.agencies.get(row.agency)
    template = template_for("mckh_reply", agency.templates if agency else {})
    strip = _strips(row.agency, context)
    fields = {
        "receipt_no": row.receipt_no,
        "agency_name": _agency_name(row, context),
        "procedure": row.procedure,
        "timeliness": _timeliness(row, context.today),
        "due_date": format_date(date.fromisoformat(row.due_date)) if row.due_date else "",
    }
    return fit(lambda step: render(template, {**fields, "step": step}, strip=strip), row.step)


def fit(make: Callable[[str], str], step: str) -> str:
    """`make(step)`, in one segment if shortening the step a little gets there, else in
    two, shortening it as far as that takes; never more segments than the full text."""
    return _fit(lambda keep: make(_cut(step, keep)), len(step))


def _fit(make: Callable[[int | None], str], longest: int) -> str:
    """`make(None)` is the full text, `make(keep)` the text with every step name cut to
    `keep` characters; the shortest cut that fits, as `fit` says."""
    text = make(None)
    if segment_count(text) == 1:
        return text
    for keep in range(longest - 1, STEP_KEEP - 1, -1):
        shorter = make(keep)
        if segment_count(shorter) == 1:
            return shorter
    if segment_count(text) <= 2:
        return text
    for keep in range(longest - 1, 0, -1):
        shorter = make(keep)
        if segment_count(shorter) <= 2:
            return shorter
    return text


def not_found(number: str, shortcode: str) -> str:
    return NOT_FOUND.format(number=_echo(number), syntax=SYNTAX, shortcode=shortcode)


def _timeliness(row: DossierRow, today: date) -> str:
    """A finished dossier by the day it first finished; an open one (also one reopened
    after finishing) by today."""
    finished = row.status in FINISHED_STATUSES and row.finished_on is not None
    return timeliness(
        today=today,
        due_date=date.fromisoformat(row.due_date) if row.due_date else None,
        finished_on=date.fromisoformat(row.finished_on) if finished and row.finished_on else None,
    )


def _strips(code: str | None, context: Context) -> bool:
    """The reply goes with this agency's diacritics policy (the composer's rule)."""
    agency = context.config.agencies.get(code) if code else None
    return agency is None or agency.diacritics == "strip"


def _agency_name(row: DossierRow, context: Context) -> str:
    agency = context.config.agencies.get(row.agency)
    return agency.name if agency else row.agency


def _cut(step: str, keep: int | None) -> str:
    return step if keep is None or len(step) <= keep else _shorten(step, keep)


def _shorten(step: str, keep: int) -> str:
    return step[:keep].rstrip() + ELLIPSIS


def _echo(number: str) -> str:
    return number if len(number) <= ECHO_LIMIT else number[:ECHO_LIMIT] + ELLIPSIS
