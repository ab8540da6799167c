"""A read whose caller is cancelled stops its query: the store's thread is free again and
the store closes at once, instead of scanning on for nobody."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from gateway.store.store import Store

# A scan of some tens of seconds.
LONG = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000000) "
    "SELECT max(i) FROM n"
)


def _long(db: Any) -> object:
    return db.execute(LONG).fetchone()


async def test_a_cancelled_read_interrupts_its_query_and_the_store_closes_promptly(
    store_location: str | Path,
):
    """On SQLite the connection is interrupted; on PostgreSQL the server cancels the query."""
    async with Store.open(store_location) as store:
        db = store.database
        async with asyncio.timeout(60):
            read = asyncio.create_task(db.read(_long))
            await asyncio.sleep(0.2)  # the query is running in the store's thread
            read.cancel()
            with pytest.raises(asyncio.CancelledError):
                await read
            # The thread is free: the next read runs rather than queueing behind a scan.
            async with asyncio.timeout(2):
                assert await db.read(lambda c: c.execute("SELECT 1").fetchone()) == (1,)
