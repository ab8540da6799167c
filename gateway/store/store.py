"""The durable store: one database, one repository per concern.

`Store` holds them; each part of the gateway is handed (or uses) only the repository it
needs: intake `dossiers`, the sender `outbox`, the receipt tracker `receipts`, the MO
dispatcher `mo_log`, the apology run `apologies`, the status publisher `statuses`,
the daily purge `retention`, the Zalo side (its receipts, its fallback timer) `zalo`, the mail
sender `letters`,
the daemon's start-up `figure_days` (where the figures'
days begin). The figures (`motcua-sms report`, the console) are
`figures.Figures`, built with the zone and price they are read in. Nothing above the store
writes SQL.

Beside this module: `database` (the connection, its thread and group-commit
transactions), `schema` (the file, its migrations and start-up checks), `lock` (one
daemon per SQLite store), `batch` (group commit of concurrent writers); on PostgreSQL
(`store.url`) `postgres` and `pg_schema` in their stead, `dialect` for what the two
engines spell apart.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from gateway.store.apologies import ApologyRuns
from gateway.store.claims import ALONE, Claimant, Tenure
from gateway.store.daemons import Daemons
from gateway.store.database import Database
from gateway.store.dossiers import Dossiers
from gateway.store.emails import Letters
from gateway.store.figures import FigureDays
from gateway.store.leases import Leases
from gateway.store.mo_log import MoLog
from gateway.store.outbox import Outbox
from gateway.store.receipts import Receipts
from gateway.store.retention import Retention
from gateway.store.statuses import StatusOutbox
from gateway.store.url import is_url
from gateway.store.zalo import ZaloBook


class Store:
    """`async with Store.open(path) as store:` then `store.outbox.due(...)` and so on."""

    def __init__(
        self,
        database: Database,
        claimant: Claimant = ALONE,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database = database
        # This daemon among the daemons of the store: what it claims, the leases it holds.
        # Its claims hold while its heartbeats keep up (`Tenure`, on `monotonic`): the
        # senders and the publisher look before each send.
        tenure = Tenure(claimant.lease, monotonic)
        self.daemons = Daemons(database, claimant, tenure)
        self.leases = Leases(database, claimant)
        self.dossiers = Dossiers(database)
        self.outbox = Outbox(database, claimant, tenure)
        self.receipts = Receipts(database)
        self.zalo = ZaloBook(database, claimant)
        self.letters = Letters(database, claimant, tenure)
        self.mo_log = MoLog(database)
        self.apologies = ApologyRuns(database)
        self.statuses = StatusOutbox(database, claimant, tenure)
        self.retention = Retention(database)
        self.figure_days = FigureDays(database)

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        location: str | Path,
        *,
        clock: Callable[[], float] = time.time,
        readonly: bool = False,
        password: str | None = None,
        claimant: Claimant = ALONE,
        monotonic: Callable[[], float] = time.monotonic,
        server_clock: bool | None = None,
    ) -> AsyncIterator[Store]:
        """Open, check and migrate the store at `location`: a `postgresql://` url (with
        its `password`, if the server asks for one) or an SQLite file. StoreUnusable
        (naming the file, or the server and database without the password) if it cannot
        be used. Holding an SQLite store against other daemons is `lock.hold`, the
        daemon's part; several daemons may share a PostgreSQL store.

        `readonly` is for readers beside the daemon (`report`): the store is read as it
        is, at its own schema version, and a query its older schema cannot answer is
        StoreOutdated.

        `claimant` is the daemon this store works for, among the daemons of the store;
        `monotonic` the clock its own view of its claims is kept on (a test's own). On
        PostgreSQL the daemons are judged alive and holding leases on the server's clock
        (`server_clock`: by default when `clock` is this host's, `postgres.open`)."""
        if is_url(location):
            # psycopg and libpq (some 13 MiB of the daemon's memory) only for a store
            # that is on PostgreSQL: a daemon on SQLite never loads them.
            from gateway.store.postgres import PostgresDatabase

            opened = PostgresDatabase.open(
                str(location), clock=clock, readonly=readonly, password=password,
                server_clock=server_clock,
            )  # fmt: skip
        else:
            opened = Database.open(location, clock=clock, readonly=readonly)
        async with opened as database:
            yield cls(database, claimant, monotonic)
