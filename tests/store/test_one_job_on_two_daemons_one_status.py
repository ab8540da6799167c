"""A job the broker gave to two daemons at once (a takeover of a daemon that was only
slow: it commits what the other took over too, both having read the store before either
wrote) is one message, and the agency hears of it once: one `queued` status. The store's
idempotency drops the second message, and only a message inserted has its first status
(gateway/store/outbox.py `insert_messages`)."""

from __future__ import annotations

import asyncio

from gateway.store.claims import Claimant
from gateway.store.store import Store
from tests.support.intake import config, intake_on, job
from tests.support.store_reads import db_rows


async def test_a_job_taken_by_two_daemons_at_once_is_queued_and_told_once(postgres_url):
    cfg = config()
    async with (
        Store.open(postgres_url, claimant=Claimant("a")) as a,
        Store.open(postgres_url, claimant=Claimant("b")) as b,
    ):
        b_committed = asyncio.Event()
        real = a.dossiers.record_intake

        async def after_b(**effects):
            await asyncio.wait_for(b_committed.wait(), 10)
            return await real(**effects)

        a.dossiers.record_intake = after_b  # type: ignore[method-assign]
        slow = asyncio.create_task(intake_on(a, cfg).process([job(1)]))
        await asyncio.sleep(0.5)
        await intake_on(b, cfg).process([job(1)])
        b_committed.set()
        await asyncio.wait_for(slow, 10)
        messages = await db_rows(a, "SELECT ref FROM messages")
        told = await db_rows(a, "SELECT payload FROM status_out")
    assert len(messages) == 1
    assert len(told) == 1, told
