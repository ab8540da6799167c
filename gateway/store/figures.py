"""The reconciliation figures as supervisors read them: per agency, procedure and local
day, or any grouping of the three, and the notices that were not delivered.

The figures come from the aggregates the schema's triggers keep per local day
(`figures_schema`), those of every channel with them (notices Zalo delivered and handed
to SMS, e-mail copies sent and failed: `CHANNEL_COLUMNS`), so a year of a large province
reads in under a second and a purged period reads as it did before the purge. The daemon
keeps the days' offset in the store (`FigureDays`); readers take the days as the store
cut them. The failed notices come from the messages themselves: their numbers are masked
here, by gateway.phone's one masking, and are gone once purged.

Opened read-only beside a running daemon (`Database.open(readonly=True)`): never
migrates, never writes; on a store of an older schema a query is StoreOutdated.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from gateway.phone.numbers import mask_phone
from gateway.store.database import Connection, Database, marks, rows
from gateway.store.figures_channels_schema import CHANNEL_COLUMNS, CHANNELS_MIGRATION
from gateway.store.figures_schema import (
    COLUMNS,
    NOT_DELIVERED,
    not_delivered,
    notice,
)
from gateway.store.migrations import MIGRATIONS

Dimension = Literal["agency", "procedure", "day"]
DIMENSIONS: tuple[Dimension, ...] = ("agency", "procedure", "day")

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
    notices_delivered: int  # notices of every kind
    results_delivered: int  # result notices: the citizen told the dossier is resolved
    not_delivered: Mapping[str, int]  # reason -> count, every reason of NOT_DELIVERED
    lookups_answered: int
    segments: int
    cost_vnd: int  # of SMS: segments × `report.segment_price`
    # Per channel (`figures_schema.CHANNEL_COLUMNS`). A notice counts in
    # `notices_delivered` once whichever channel delivered it; these say which carried it.
    zalo_delivered: int = 0  # notices Zalo delivered (the user's receipt came)
    zalo_fallbacks: int = 0  # notices Zalo refused or did not confirm, handed to SMS
    emails_sent: int = 0  # e-mail copies the agency's mail server accepted
    emails_failed: int = 0  # e-mail copies refused for good or expired
    zalo_cost_vnd: int = 0  # zalo_delivered × `report.zns_price`

    @property
    def total_cost_vnd(self) -> int:
        """What the notices cost by every channel that charges: SMS and Zalo (e-mail
        goes through the agency's own mail server, at no cost per letter)."""
        return self.cost_vnd + self.zalo_cost_vnd

    @property
    def delivered_ratio(self) -> float | None:
        """Result notices delivered per dossier resolved; None when none was resolved.
        Notices of other kinds (a supplement request, a receipt, an apology, SMS jobs)
        tell no citizen of a result, so they do not count here."""
        if not self.dossiers_resolved:
            return None
        return self.results_delivered / self.dossiers_resolved

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
    """The read interface of the figures (`report`, the console), with the prices in
    VND of an SMS segment and of a ZNS notice delivered (`report.segment_price`,
    `report.zns_price`)."""

    def __init__(
        self, db: Database, zone: ZoneInfo, segment_price: int, zns_price: int = 0
    ) -> None:
        self._db = db
        self._zone = zone
        self._price = segment_price
        self._zns_price = zns_price

    async def table(
        self,
        since: date,
        until: date,
        by: Sequence[Dimension],
        agencies: Collection[str] | None = None,
    ) -> list[FigureRow]:
        """The figures of the local days [since, until] grouped by `by` (any of
        DIMENSIONS, in any order; none: one row of totals), ordered by agency, procedure,
        day. Raises ValueError for an unknown dimension or a range that ends before it
        starts."""
        unknown = [d for d in by if d not in DIMENSIONS]
        if unknown:
            raise ValueError(f"unknown grouping {unknown[0]!r}; one of {', '.join(DIMENSIONS)}")
        if until < since:
            raise ValueError(f"the range ends ({until}) before it starts ({since})")
        chosen = None if agencies is None else sorted(set(agencies))
        if chosen == []:
            return []
        first, last = (since - _EPOCH).days, (until - _EPOCH).days
        columns = _READ if self._db.has_step(_CHANNELS_SINCE) else _BEFORE_CHANNELS
        found, names = await self._db.read(_table, first, last, frozenset(by), chosen, columns)
        days: dict[int, date] = {}
        price, zns_price = self._price, self._zns_price
        return [
            FigureRow(
                agency, key, name if name is not None else names.get((agency, key)),
                None if day is None else days.get(day) or days.setdefault(day, _date(day)),
                received, resolved, queued, delivered, results,
                dict(zip(NOT_DELIVERED, reasons, strict=True)),
                lookups, segments, segments * price,
                zalo, fallbacks, sent, failed, zalo * zns_price,
            )
            for agency, key, name, day, received, resolved, queued, delivered, results, *reasons,
            segments, lookups, zalo, fallbacks, sent, failed in found
        ]  # fmt: skip

    async def failed(
        self,
        since: date,
        until: date,
        agencies: Collection[str] | None = None,
        limit: int = 500,
        offset: int = 0,
    ) -> list[FailedNotice]:
        """The notices counted on the local days [since, until] that were not delivered,
        oldest first, `limit` from `offset`: the rows behind `table`'s not delivered."""
        if until < since:
            raise ValueError(f"the range ends ({until}) before it starts ({since})")
        if limit < 0 or offset < 0:
            raise ValueError("limit and offset cannot be negative")
        chosen = None if agencies is None else sorted(set(agencies))
        if chosen == []:
            return []
        # The days as the figures counted them; the times a day wider, for the index.
        first, last = (since - _EPOCH).days, (until - _EPOCH).days
        start = self._midnight(since - timedelta(days=1)).timestamp()
        end = self._midnight(until + timedelta(days=2)).timestamp()
        zone = self._zone

        def notices(db: Connection) -> list[FailedNotice]:
            # Built in the store's thread with the query: an export's 100,000 rows are a
            # second of masking and dating that would otherwise stall the event loop.
            found = _failed(db, start, end, first, last, chosen, limit, offset)
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
                    at=datetime.fromtimestamp(at, zone),
                )
                for ref, agency, key, name, receipt_no, phone, reason, state, at in found
            ]

        return await self._db.read(notices)

    async def agencies(self) -> list[str]:
        """The agencies that have figures, in order."""
        found = await self._db.read(rows, "SELECT DISTINCT agency FROM figures ORDER BY agency")
        return [agency for (agency,) in found]

    # -- helpers ---------------------------------------------------------------------

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(), self._zone)


def _date(day: int) -> date:
    return _EPOCH + timedelta(days=day)


# The figures' columns as read: those of the figures' step, then the channels'.
_READ = (*COLUMNS, *CHANNEL_COLUMNS)
# A store of a schema before the channels' step (read beside the previous release's
# daemon, not upgraded yet) has no channels' columns: it carried SMS alone, so what the
# channels carried is noughts, read as such rather than refused as outdated.
_CHANNELS_SINCE = MIGRATIONS.index(CHANNELS_MIGRATION) + 1
_BEFORE_CHANNELS = (*COLUMNS, *("0" for _ in CHANNEL_COLUMNS))
_ORDER = {"agency": "agency", "procedure": "procedure_key", "day": "day"}


def _table(
    db: Connection,
    first: int,
    last: int,
    dims: frozenset[str],
    agencies: list[str] | None,
    columns: Sequence[str],
) -> tuple[list[Any], dict[tuple[str, str], str | None]]:
    """(agency, procedure key, procedure name, day number, *columns) per group of the
    days [first, last] in the order of the groups (without groups one row of totals); by
    all three, the names apart, by (agency, key). `columns` are COLUMNS and
    CHANNEL_COLUMNS, or what stands for the latter in a store without them.

    By all three there is nothing to sum (a figures row is one agency's procedure's day),
    and the names are read once per procedure rather than once per row: a year's table
    is hundreds of thousands of rows."""
    params: list[Any] = [first, last]
    where = "day BETWEEN ? AND ?"
    if agencies is not None:
        where += f" AND agency IN ({marks(agencies)})"
        params += agencies
    every_column = ", ".join(columns)
    sums = ", ".join(f"SUM({c})" for c in columns)
    totals = ", ".join(f"COALESCE(SUM({c}), 0)" for c in columns)  # of no rows: noughts
    groups = [_ORDER[d] for d in DIMENSIONS if d in dims]
    agency, key, day = (g if g in groups else "NULL" for g in _ORDER.values())
    every = len(groups) == len(DIMENSIONS)
    if every:
        sql = f"""SELECT agency, procedure_key, NULL, day, {every_column} FROM figures
                  WHERE {where} ORDER BY agency, procedure_key, day"""
    elif groups:
        order = ", ".join(groups)
        name = "MAX(procedure_name)" if "procedure" in dims else "NULL"
        sql = f"""SELECT {agency}, {key}, {name}, {day}, {sums} FROM figures WHERE {where}
                  GROUP BY {order} ORDER BY {order}"""
    else:
        sql = f"SELECT NULL, NULL, NULL, NULL, {totals} FROM figures WHERE {where}"
    found = db.execute(sql, params).fetchall()
    names: dict[tuple[str, str], str | None] = {}
    if every:
        named = f"""SELECT agency, procedure_key, MAX(procedure_name) FROM figures
                    WHERE {where} GROUP BY agency, procedure_key"""
        names = {(a, k): n for a, k, n in db.execute(named, params)}
    return found, names


_FAILED = f"""SELECT m.ref, m.agency, m.procedure_key, m.procedure, m.receipt_no, m.phone,
                     {not_delivered("m")} AS why, m.state, m.updated_at
              FROM messages AS m
              WHERE m.state IN ('rejected', 'undeliverable', 'expired', 'failed')
                AND m.created_at >= ? AND m.created_at < ? AND {notice("m")}
                AND m.figures_day BETWEEN ? AND ?"""


def _failed(
    db: Connection,
    start: float,
    end: float,
    first: int,
    last: int,
    agencies: list[str] | None,
    limit: int,
    offset: int,
) -> list[Any]:
    params: list[Any] = [start, end, first, last]
    sql = _FAILED
    if agencies is not None:
        sql += f" AND m.agency IN ({marks(agencies)})"
        params += agencies
    sql += " ORDER BY m.created_at, m.id LIMIT ? OFFSET ?"
    return db.execute(sql, [*params, limit, offset]).fetchall()


class FigureDays:
    """Where the figures' days begin: the daemon's configured zone, recorded at start-up
    so that the triggers cut days at its offset (SQLite knows no zones)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def follow(self, zone: ZoneInfo) -> None:
        """Cut the days from now on at `zone`'s present offset from UTC."""
        offset = datetime.now(zone).utcoffset() or timedelta()
        await self._db.write(_record_offset, int(offset.total_seconds()))


def _record_offset(db: Connection, seconds: int) -> None:
    db.execute(f"UPDATE figures_zone SET {db.dialect.offset} = ?", (seconds,))
