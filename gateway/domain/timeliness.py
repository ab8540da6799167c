"""Whether a dossier is on time, as the MCKH reply states it."""

from __future__ import annotations

from datetime import date

ON_TIME = "Đúng hạn"
LATE = "Trễ hạn"


def timeliness(*, today: date, due_date: date | None, finished_on: date | None) -> str:
    """`Đúng hạn` or `Trễ hạn`, as the MCKH reply states it.

    An open dossier turns late only once its due date has passed, not on it; a finished one
    keeps the verdict of the day it reached the result, however late the citizen asks. A
    dossier without a due date cannot be late.
    """
    if due_date is None:
        return ON_TIME
    reference = today if finished_on is None else finished_on
    return ON_TIME if reference <= due_date else LATE
