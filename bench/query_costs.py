"""The three queries migration step 12 indexed, timed with and without its indexes.

In memory, the tables reduced to the columns the queries read: 1,000,000 dossiers,
2,000,000 part keys, 2,000 early receipts; `before` is without step 12's indexes,
`after` with them. Run them alternating:

    for i in 1 2 3; do python bench/query_costs.py before; python bench/query_costs.py after; done
"""

from __future__ import annotations

import sqlite3
import sys
import time

from gateway.store.migrations import MIGRATIONS

TABLES = """
CREATE TABLE dossiers (receipt_key TEXT, agency TEXT, phone TEXT, occurred_at TEXT,
                       PRIMARY KEY (receipt_key, agency));
CREATE TABLE part_keys (key TEXT NOT NULL, message_id INTEGER NOT NULL, seq INTEGER NOT NULL);
CREATE TABLE early_receipts (key TEXT NOT NULL, rid TEXT NOT NULL, state TEXT, error TEXT,
                             at REAL);
CREATE INDEX early_receipts_key ON early_receipts (key);
"""
# Step 12 itself, so the bench times what the daemon's stores get.
INDEXES = MIGRATIONS[11]
PURGE_DOSSIERS = (
    "UPDATE dossiers SET phone = NULL WHERE occurred_at < '2025-12-01' AND phone IS NOT NULL"
)
PURGE_PART_KEYS = "DELETE FROM part_keys WHERE message_id IN (SELECT 5000001)"
EARLY = """SELECT rid, state, error FROM early_receipts
           WHERE rid IN (SELECT rid FROM early_receipts WHERE key IN (?)) AND at >= 0
           ORDER BY rowid"""


def main() -> None:
    which = sys.argv[1] if len(sys.argv) > 1 else "after"
    db = sqlite3.connect(":memory:")
    db.executescript(TABLES)
    db.executemany(
        "INSERT INTO dossiers VALUES (?, 'SCT', '84905123456', '2026-11-20T10:00:00')",
        ((f"R{n}",) for n in range(1_000_000)),
    )
    db.executemany(
        "INSERT INTO part_keys VALUES (?, ?, 0)", ((f"s:{n:x}", n) for n in range(2_000_000))
    )
    db.executemany(
        "INSERT INTO early_receipts VALUES (?, ?, 'delivered', NULL, 1)",
        ((f"s:{n:x}", f"r{n}") for n in range(2000)),
    )
    if which == "after":
        db.executescript(INDEXES)
    for name, sql in (("purge dossiers", PURGE_DOSSIERS), ("purge part_keys", PURGE_PART_KEYS)):
        started = time.perf_counter()
        db.execute(sql)
        print(f"{which} {name} {(time.perf_counter() - started) * 1000:.1f} ms")
    started = time.perf_counter()
    for n in range(1000):
        db.execute(EARLY, (f"s:{n:x}",)).fetchall()
    print(f"{which} early lookup x1000 {(time.perf_counter() - started) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
