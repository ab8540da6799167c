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

from gateway.mo.api import (
    Context,
    Dossier,
    Outcome,
    Reply,
    Request,
    format_date,
    is_phone_number,
    receipt_numbers,
    short_numbers,
)

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
# A long MO part of which never came: a number not found in it may be cut short, so the
# citizen is asked to send again instead of being told the dossier does not exist.
INCOMPLETE = (
    "Tin nhắn của Quý Ông/Bà chưa đến đủ, không đọc được mã số biên nhận. "
    "Vui lòng gửi lại: {syntax} gửi {shortcode}"
)

# A typo'd number is repeated so the citizen sees it; a paste of a whole paragraph is not.
ECHO_LIMIT = 40
# Shortened to reach one segment, a step name keeps at least this many characters;
# to stay within two segments it may lose more.
STEP_KEEP = 20
ELLIPSIS = "..."


async def handle(request: Request, context: Context) -> Reply:
    limit = context.max_lookups
    numbers, left_out = receipt_numbers(request.argument, limit)
    if not numbers:
        return missing(request)
    found = await context.find(numbers)
    # A telephone number in the text is not a receipt, unless a dossier has it as one.
    kept = [
        (n, rows) for n, rows in zip(numbers, found, strict=True) if rows or not is_phone_number(n)
    ]
    if not kept:
        return missing(request)
    if not request.complete and not any(rows for _, rows in kept):
        return _incomplete(request)
    first = next((rows[0] for _, rows in kept if rows), None)
    if len(kept) == 1 and not left_out:
        ((number, rows),) = kept
        if not rows:
            return Reply(not_found(number, request.shortcode), outcome=Outcome.NOT_FOUND)
        if len(rows) == 1:
            row = rows[0]
            text = one(row, context)
            return Reply(text, row.agency, row.receipt_no, outcome=Outcome.ANSWERED)
    steps = [row.step for _, rows in kept for row in rows]
    agency = first.agency if first else None

    def make(keep: int | None) -> str:
        lines = []
        for number, rows in kept:
            if not rows:
                lines.append(LINE_NOT_FOUND.format(number=_echo(number)))
            for row in rows:
                line = LINE_AGENCY if len(rows) > 1 else LINE_FOUND
                lines.append(
                    line.format(
                        receipt_no=row.receipt_no,
                        agency_name=row.agency_name,
                        step=_cut(row.step, keep),
                        timeliness=row.timeliness,
                    )
                )
        if left_out:
            lines.append(TOO_MANY.format(limit=limit))
        # As the composer will send it, so that segments are counted right.
        return context.render("{text}", {"text": " ".join(lines)}, agency=agency)

    text = _fit(make, max(map(len, steps), default=0), context)
    receipt_no = first.receipt_no if first is not None and len(kept) == 1 else None
    outcome = Outcome.ANSWERED if first is not None else Outcome.NOT_FOUND
    return Reply(text, agency=agency, receipt_no=receipt_no, outcome=outcome)


def missing(request: Request) -> Reply:
    """No receipt number in the MO. A number too short to be one (`MCKH 9999`) is named
    back as not found, and an MO cut short asks for the text again: telling either
    citizen that no number was given would be wrong."""
    if not request.complete:
        return _incomplete(request)
    stray = short_numbers(request.argument)
    if stray:
        return Reply(not_found(stray[0], request.shortcode), outcome=Outcome.NOT_FOUND)
    text = MISSING.format(syntax=SYNTAX, shortcode=request.shortcode)
    return Reply(text, outcome=Outcome.MISSING)


def _incomplete(request: Request) -> Reply:
    return Reply(
        INCOMPLETE.format(syntax=SYNTAX, shortcode=request.shortcode), outcome=Outcome.INCOMPLETE
    )


def one(row: Dossier, context: Context) -> str:
    template = context.template("mckh_reply", row.agency)
    fields = {
        "receipt_no": row.receipt_no,
        "agency_name": row.agency_name,
        "procedure": row.procedure,
        "timeliness": row.timeliness,
        "due_date": format_date(row.due_date) if row.due_date else "",
    }
    return fit(
        lambda step: context.render(template, {**fields, "step": step}, agency=row.agency),
        row.step,
        context,
    )


def fit(make: Callable[[str], str], step: str, context: Context) -> str:
    """`make(step)`, in one segment if shortening the step a little gets there, else in
    two, shortening it as far as that takes; never more segments than the full text."""
    return _fit(lambda keep: make(_cut(step, keep)), len(step), context)


def _fit(make: Callable[[int | None], str], longest: int, context: Context) -> str:
    """`make(None)` is the full text, `make(keep)` the text with every step name cut to
    `keep` characters; the shortest cut that fits, as `fit` says."""
    segments = context.segments
    text = make(None)
    if segments(text) == 1:
        return text
    for keep in range(longest - 1, STEP_KEEP - 1, -1):
        shorter = make(keep)
        if segments(shorter) == 1:
            return shorter
    if segments(text) <= 2:
        return text
    for keep in range(longest - 1, 0, -1):
        shorter = make(keep)
        if segments(shorter) <= 2:
            return shorter
    return text


def not_found(number: str, shortcode: str) -> str:
    return NOT_FOUND.format(number=_echo(number), syntax=SYNTAX, shortcode=shortcode)


def _cut(step: str, keep: int | None) -> str:
    return step if keep is None or len(step) <= keep else _shorten(step, keep)


def _shorten(step: str, keep: int) -> str:
    return step[:keep].rstrip() + ELLIPSIS


def _echo(number: str) -> str:
    return number if len(number) <= ECHO_LIMIT else number[:ECHO_LIMIT] + ELLIPSIS
