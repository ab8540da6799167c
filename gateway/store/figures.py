"""The reconciliation figures as supervisors read them: per agency, procedure and local
day, or any grouping of the three, and the notices that were not delivered.

The figures come from the aggregates the schema's triggers keep per hour of UTC
(`figures_schema`), so a year of a large province reads in well under a second and a
purged period reads as it did before the purge. The failed notices come from the messages
themselves: their numbers are masked here, by gateway.phone's one masking, and are gone
once purged.

Opened read-only beside a running daemon (`Database.open(readonly=True)`): never
migrates, never writes; on a store of an older schema a query is StoreOutdated.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any, Literal
from zoneinfo import ZoneInfo

from gateway.phone.numbers import mask_phone
from gateway.store.database import Database, marks, rows
from gateway.store.figures_schema import COLUMNS, NOT_DELIVERED, not_delivered, notice

Dimension = Literal["agency", "procedure", "day"]
DIMENSIONS: tuple[Dimension, ...] = ("agency", "procedure", "day")

HOUR = 3600
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class FigureRow:
    """One group's figures. `procedure_code` is the procedure's key within its agency: its
    code, or its name where it has none ("" for messages of no procedure, such as SMS jobs
    and MCKH replies to no dossier)."""

    agency: str | None  # None when not grouped by agency
    procedure_code: str | None  # the procedure key; None when not grouped by procedure
    procedure_name: str | None
    day: date | None  # None when not grouped by day
    dossiers_received: int
    dossiers_resolved: int
    notices_queued: int
    notices_delivered: int
    not_delivered: Mapping[str, int]  # reason -> count, every reason of NOT_DELIVERED
    lookups_answered: int
    segments: int
    cost_vnd: int

    @property
    def delivered_ratio(self) -> float | None:
        """Notices delivered per dossier resolved; None when none was resolved."""
        if not self.dossiers_resolved:
            return None
        return self.notices_delivered / self.dossiers_resolved

    @property
    def not_delivered_total(self) -> int:
        return sum(self.not_delivered.values())


@dataclass(frozen=True, slots=True)
class FailedNotice:
    """A notice that was not delivered, for the desk that typed its dossier to correct."""

    ref: str
    agency: str
    procedure_code: str | None
    procedure_name: str | None
    receipt_no: str | None
    masked_number: str | None  # None once purged, or when there was none
    reason: str  # one of NOT_DELIVERED
    state: str  # the message's state
    at: datetime  # when it was last changed (its failure), local time


class Figures:
    """The read interface of the figures (`report`, the console)."""

    def __init__(self, db: Database, zone: ZoneInfo, segment_price: int) -> None:
        self._db = db
        self._zone = zone
        self._price = segment_price

    async def table(
        self,
        since: date,
        until: date,
        by: Sequence[Dimension],
        agencies: Collection[str] | None = None,
    ) -> list[FigureRow]:
        """The figures of the local days [since, until] grouped by `by` (any of
        DIMENSIONS, in any order; none: one row of totals), ordered by agency, procedure,
        day. Raises ValueError for an unknown dimension, a range that ends before it
        starts, or a zone whose offset is not a whole number of hours."""
        unknown = [d for d in by if d not in DIMENSIONS]
        if unknown:
            raise ValueError(f"unknown grouping {unknown[0]!r}; one of {', '.join(DIMENSIONS)}")
        if until < since:
            raise ValueError(f"the range ends ({until}) before it starts ({since})")
        dims = frozenset(by)
        chosen = None if agencies is None else sorted(set(agencies))
        if chosen == []:
            return []
        totals: dict[tuple[Any, ...], list[Any]] = {}
        for start, end, offset, fixed in self._runs(since, until):
            found = await self._db.read(_table, start, end, offset, fixed, dims, chosen)
            for row in found:
                key = (row[0], row[2], row[3])  # agency, procedure key, day
                held = totals.get(key)
                if held is None:
                    totals[key] = list(row)
                else:
                    held[4:] = [a + b for a, b in zip(held[4:], row[4:], strict=True)]
                    held[1] = held[1] or row[1]
        return [self._row(totals[k]) for k in sorted(totals, key=_order)]

    async def failed(
        self,
        since: date,
        until: date,
        agencies: Collection[str] | None = None,
        limit: int = 500,
        offset: int = 0,
    ) -> list[FailedNotice]:
        """The notices created on the local days [since, until] that were not delivered,
        oldest first, `limit` from `offset`."""
        if until < since:
            raise ValueError(f"the range ends ({until}) before it starts ({since})")
        if limit < 0 or offset < 0:
            raise ValueError("limit and offset cannot be negative")
        chosen = None if agencies is None else sorted(set(agencies))
        if chosen == []:
            return []
        start = self._midnight(since).timestamp()
        end = self._midnight(until + timedelta(days=1)).timestamp()
        found = await self._db.read(_failed, start, end, chosen, limit, offset)
        return [
            FailedNotice(
                ref=ref,
                agency=agency,
                procedure_code=key or None,
                procedure_name=name,
                receipt_no=receipt_no,
                masked_number=mask_phone(phone) if phone else None,
                reason=reason,
                state=state,
                at=datetime.fromtimestamp(at, self._zone),
            )
            for ref, agency, key, name, receipt_no, phone, reason, state, at in found
        ]

    async def agencies(self) -> list[str]:
        """The agencies that have figures, in order."""
        found = await self._db.read(rows, "SELECT DISTINCT agency FROM figures ORDER BY agency")
        return [agency for (agency,) in found]

    # -- helpers ---------------------------------------------------------------------

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(), self._zone)

    def _runs(self, since: date, until: date) -> Iterator[tuple[int, int, int, int | None]]:
        """The hours [start, end) of the local days [since, until] in runs of one UTC
        offset (hours), whose hours group into days by it; a day on which the offset
        changes is a run of its own, all its hours labelled with it (`fixed`, a day
        number)."""
        day = since
        while day <= until:
            offset, first = self._offset(day), day
            fixed = None if self._offset(day + timedelta(days=1)) == offset else (day - _EPOCH).days
            day += timedelta(days=1)
            while fixed is None and day <= until and self._offset(day) == offset:
                if self._offset(day + timedelta(days=1)) != offset:
                    break  # a changing day, a run of its own
                day += timedelta(days=1)
            yield self._hour(first), self._hour(day), offset, fixed

    def _hour(self, day: date) -> int:
        """The hour (of UTC, since the epoch) at which the local `day` begins."""
        return int(self._midnight(day).timestamp()) // HOUR

    def _offset(self, day: date) -> int:
        delta = self._midnight(day).utcoffset() or timedelta()
        seconds = int(delta.total_seconds())
        if seconds % HOUR:
            raise ValueError(
                f"time zone {self._zone.key} is {delta} from UTC on {day}: the figures are "
                "kept per hour of UTC and group into local days only for whole-hour offsets"
            )
        return seconds // HOUR

    def _row(self, row: Sequence[Any]) -> FigureRow:
        agency, name, key, day = row[:4]
        counts = dict(zip(COLUMNS, row[4:], strict=True))
        return FigureRow(
            agency=agency,
            procedure_code=key,
            procedure_name=name,
            day=None if day is None else _EPOCH + timedelta(days=day),
            dossiers_received=counts["received"],
            dossiers_resolved=counts["resolved"],
            notices_queued=counts["queued"],
            notices_delivered=counts["delivered"],
            not_delivered=MappingProxyType({r: counts[r] for r in NOT_DELIVERED}),
            lookups_answered=counts["lookups"],
            segments=counts["segments"],
            cost_vnd=counts["segments"] * self._price,
        )


def _order(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((v is not None, v) for v in key)


_SUMS = ", ".join(f"COALESCE(SUM({c}), 0)" for c in COLUMNS)


def _table(
    db: sqlite3.Connection,
    start: int,
    end: int,
    offset: int,
    fixed: int | None,
    dims: frozenset[str],
    agencies: list[str] | None,
) -> list[Any]:
    """(agency, procedure name, procedure key, day number, *COLUMNS) per group of the hours
    [start, end): hours labelled with their local day by `offset`, or all with `fixed`."""
    day = "NULL"
    if "day" in dims:
        day = f"(hour + {int(offset)}) / 24" if fixed is None else str(int(fixed))
    agency = "agency" if "agency" in dims else "NULL"
    key = "procedure_key" if "procedure" in dims else "NULL"
    name = "MAX(procedure_name)" if "procedure" in dims else "NULL"
    groups = [g for g, d in (("agency", "agency"), ("procedure_key", "procedure"), ("d", "day"))
              if d in dims]  # fmt: skip
    params: list[Any] = [start, end]
    where = "hour >= ? AND hour < ?"
    if agencies is not None:
        where += f" AND agency IN ({marks(agencies)})"
        params += agencies
    group = f" GROUP BY {', '.join(groups)}" if groups else ""
    sql = f"SELECT {agency}, {name}, {key}, {day} AS d, {_SUMS} FROM figures WHERE {where}{group}"
    return db.execute(sql, params).fetchall()


_FAILED = f"""SELECT m.ref, m.agency, m.procedure_key, m.procedure, m.receipt_no, m.phone,
                     {not_delivered("m")} AS why, m.state, m.updated_at
              FROM messages AS m
              WHERE m.state IN ('rejected', 'undeliverable', 'expired', 'failed')
                AND m.created_at >= ? AND m.created_at < ? AND {notice("m")}"""


def _failed(
    db: sqlite3.Connection,
    start: float,
    end: float,
    agencies: list[str] | None,
    limit: int,
    offset: int,
) -> list[Any]:
    params: list[Any] = [start, end]
    sql = _FAILED
    if agencies is not None:
        sql += f" AND m.agency IN ({marks(agencies)})"
        params += agencies
    sql += " ORDER BY m.created_at, m.id LIMIT ? OFFSET ?"
    return db.execute(sql, [*params, limit, offset]).fetchall()
