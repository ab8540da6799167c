"""A read cancelled while it still waits in the store's queue (behind a transaction
under way, or behind a waiting citizen's urgent calls) has nothing to interrupt: the
call running on the connection is someone else's, and must run to its end."""

from __future__ import annotations

import asyncio
import threading

import pytest

from gateway.store.store import Store
from tests.support.clock import NOON, Clock

# A statement that runs for a while on the connection (some tenths of a second).
LONG = """WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000)
          SELECT count(*) FROM c"""


@pytest.mark.parametrize("store_location", ["sqlite"], indirect=True)
async def test_a_read_cancelled_while_queued_leaves_the_transaction_under_way_alone(
    store_location,
):
    async with Store.open(store_location, clock=Clock(NOON)) as store:
        started = threading.Event()

        def long_transaction(db):
            started.set()
            return db.execute(LONG).fetchone()[0]

        writing = asyncio.create_task(store.database.write(long_transaction))
        assert await asyncio.to_thread(started.wait, 10)
        queued = asyncio.create_task(store.database.read(lambda db: 1))
        await asyncio.sleep(0.01)  # in the queue, behind the transaction
        queued.cancel()
        await asyncio.gather(queued, return_exceptions=True)
        assert await asyncio.wait_for(writing, 30) == 3000000
