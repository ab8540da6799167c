"""The store's figures as the console reads them: the store opened for each read, never
held open between pages.

A reader that keeps one connection for days meets the daemon stopping, restarting and
checkpointing under it. Worse, a store opened while no daemon has it open is opened
`immutable` (SQLite then never looks for changes, and `mode=ro` would create the -wal and
-shm files): a console started while the daemon was stopped would show that moment's
figures for ever, and could read pages the daemon has since moved. Opening it per read
costs about a millisecond and always reads what the daemon has committed.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from gateway.store.figures import Dimension, FailedNotice, FigureRow, Figures
from gateway.store.store import Store


class FigureReads(Protocol):
    """What the pages read: `gateway.store.figures.Figures`'s two queries."""

    async def table(
        self,
        since: date,
        until: date,
        by: Sequence[Dimension],
        agencies: Collection[str] | None = None,
    ) -> list[FigureRow]: ...

    async def failed(
        self,
        since: date,
        until: date,
        agencies: Collection[str] | None = None,
        limit: int = 500,
        offset: int = 0,
    ) -> list[FailedNotice]: ...


class StoreFigures:
    """`Figures` over the store at `path`, opened read-only for each query, priced at
    `segment_price` an SMS segment and `zns_price` a ZNS notice delivered (VND)."""

    def __init__(
        self,
        path: str | Path,
        zone: ZoneInfo,
        segment_price: int,
        zns_price: int = 0,
        password: str | None = None,
    ) -> None:
        self._path = path
        self._password = password  # a PostgreSQL store's (`store.url`)
        self._zone = zone
        self._price = segment_price
        self._zns_price = zns_price

    async def check(self) -> None:
        """Open the store once, so that start-up refuses one that cannot be read (none
        there, not a database, of a newer version): StoreError."""
        async with Store.open(self._path, readonly=True, password=self._password):
            pass

    async def table(
        self,
        since: date,
        until: date,
        by: Sequence[Dimension],
        agencies: Collection[str] | None = None,
    ) -> list[FigureRow]:
        async with Store.open(self._path, readonly=True, password=self._password) as store:
            figures = Figures(store.database, self._zone, self._price, self._zns_price)
            return await figures.table(since, until, by, agencies)

    async def failed(
        self,
        since: date,
        until: date,
        agencies: Collection[str] | None = None,
        limit: int = 500,
        offset: int = 0,
    ) -> list[FailedNotice]:
        async with Store.open(self._path, readonly=True, password=self._password) as store:
            figures = Figures(store.database, self._zone, self._price)
            return await figures.failed(since, until, agencies, limit=limit, offset=offset)
