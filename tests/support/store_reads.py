"""Tests look into a store's database directly: the gateway itself has no SQL API above
its repositories.

`db_rows` runs one query on the store's thread, after whatever the store was handed
before it (as the store's own reads do), with the connection made read-only for it
(`PRAGMA query_only`; a read-only transaction on PostgreSQL), so a test sees what the
store committed and cannot change it by accident. `execute` is for the few tests that set
up a state no repository writes (a row moved to another state, to check the counters the
schema's triggers keep).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway.store.store import Store


async def db_rows(store: Store, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Every row `sql` reads from the store (committed data only)."""
    return await store.database.read(_query_only, sql, params)


async def query_plan(store: Store, sql: str, params: Sequence[Any] = ()) -> list[str]:
    """The plan of `sql`, one line per step: SQLite's EXPLAIN QUERY PLAN details, or
    PostgreSQL's EXPLAIN with sequential scans priced out (`enable_seqscan = off`), so
    that on the test's few rows it shows whether an index can serve the query at all."""
    return await store.database.read(_plan, sql, params)


def _plan(db: Any, sql: str, params: Sequence[Any]) -> list[str]:
    if db.dialect.postgresql:
        with db.connection.transaction():
            db.execute("SET LOCAL enable_seqscan = off")
            found = db.execute(f"EXPLAIN (COSTS OFF) {sql}", params).fetchall()
            return [row[0].strip() for row in found]
    return [row[-1] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()]


async def execute(store: Store, sql: str, params: Sequence[Any] = ()) -> None:
    """Run one writing statement on the store, committed at once."""
    await store.database.write(_execute, sql, params)


def _query_only(db: Any, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    if db.dialect.postgresql:
        with db.connection.transaction():
            db.execute("SET TRANSACTION READ ONLY")
            return [tuple(row) for row in db.execute(sql, params).fetchall()]
    db.execute("PRAGMA query_only = ON")
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.execute("PRAGMA query_only = OFF")


def _execute(db: Any, sql: str, params: Sequence[Any]) -> None:
    db.execute(sql, params)
