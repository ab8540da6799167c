"""The status outbox: statuses committed with the change they report, published later.

Every change of a message's state writes its status into `status_out` in the same
transaction (`insert`, called by the other repositories inside theirs), so a status can
be published late but never lost or invented. The publisher reads them in commit order
and deletes what the broker took.
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway.store.database import Connection, Database, rows

INSERT = "INSERT INTO status_out (agency, payload) VALUES (?, ?)"


def insert(db: Connection, statuses: Iterable[tuple[str, str]]) -> None:
    """(agency, encoded status) rows, inside the caller's transaction."""
    db.executemany(INSERT, statuses)


class StatusOutbox:
    """What the status publisher reads and clears."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.added = db.status_added  # set by every write that adds a status

    async def pending(self, limit: int = 500, *, after: int = 0) -> list[tuple[int, str, str]]:
        """(seq, agency, payload) of statuses not yet known to be published, oldest
        first, from `after` on."""
        return await self._db.read(
            rows,
            "SELECT seq, agency, payload FROM status_out WHERE seq > ? ORDER BY seq LIMIT ?",
            (after, limit),
        )

    async def published(self, up_to_seq: int) -> None:
        """The broker took every status up to `up_to_seq`."""
        await self._db.write(_delete_up_to, up_to_seq)


def _delete_up_to(db: Connection, seq: int) -> None:
    db.execute("DELETE FROM status_out WHERE seq <= ?", (seq,))
