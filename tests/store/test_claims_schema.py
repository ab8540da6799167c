"""The claims' schema step: readers asking whether a PostgreSQL store has SQLite's step 16
are told it has, and the status publisher's read finds the statuses other daemons hold by
an index, not by reading the whole outbox (which grows while the broker is away)."""

from __future__ import annotations

from gateway.store.statuses import _PENDING
from gateway.store.store import Store


async def test_a_current_postgresql_store_has_the_claims_step(postgres_url):
    async with Store.open(postgres_url) as store:
        assert store.database.has_step(16)


async def test_the_statuses_other_daemons_hold_are_found_by_index(tmp_path):
    """SQLite's plan (EXPLAIN QUERY PLAN): the subquery of others' claims searches the
    partial index on `claimed_by`."""
    async with Store.open(tmp_path / "s.db") as store:
        plan = await store.database.read(
            lambda db: db.execute(
                "EXPLAIN QUERY PLAN " + _PENDING, ("a", 0, "a", 0.0, "a", 0.0, 10)
            ).fetchall()
        )
    details = [row[3] for row in plan]
    assert "SEARCH status_out USING INDEX status_out_claimed (claimed_by=?)" in details
