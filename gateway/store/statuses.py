"""The status outbox: statuses committed with the change they report, published later.

Every change of a message's state writes its status into `status_out` in the same
transaction (`insert`, called by the other repositories inside theirs), so a status can
be published late but never lost or invented. The publisher reads them in commit order
and deletes what the broker took.

Several daemons on one store: a publisher's read claims the rows it returns
(`gateway.store.claims`), and one agency's statuses are read by one daemon at a time: an
agency with a row claimed by another live daemon is left to that daemon, so each agency's
stream stays in commit order. Each daemon deletes only the rows it claimed.
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway.store.claims import ALONE, LIVE, Claimant, Tenure
from gateway.store.database import Connection, Database, marks

INSERT = "INSERT INTO status_out (agency, payload) VALUES (?, ?)"

# Rows this daemon may read: unclaimed, of a dead daemon, or claimed in a previous life of
# its own (past `after`: those up to it are held in memory now), of an agency no other
# live daemon is publishing.
_PENDING = f"""SELECT seq, agency, payload FROM status_out
    WHERE (claimed_by IS NULL OR (claimed_by = ? AND seq > ?)
           OR (claimed_by != ? AND claimed_by NOT IN ({LIVE})))
      AND agency NOT IN (SELECT agency FROM status_out
                         WHERE claimed_by != ? AND claimed_by IN ({LIVE}))
    ORDER BY seq LIMIT ?"""


def insert(db: Connection, statuses: Iterable[tuple[str, str]]) -> None:
    """(agency, encoded status) rows, inside the caller's transaction."""
    db.executemany(INSERT, statuses)


class StatusOutbox:
    """What the status publisher reads and clears."""

    def __init__(
        self, db: Database, claimant: Claimant = ALONE, tenure: Tenure | None = None
    ) -> None:
        self._db = db
        self._me = claimant
        # Whether this daemon's claims are still its own (renewed by its heartbeat).
        self.tenure = tenure or Tenure(claimant.lease)
        self.added = db.status_added  # set by every write that adds a status

    async def pending(self, limit: int = 500, *, after: int = 0) -> list[tuple[int, str, str]]:
        """(seq, agency, payload) of statuses not yet known to be published, oldest
        first, claimed for this daemon; of those it claimed itself, only those past
        `after` (the ones up to it it has read already)."""
        return await self._db.write(_pending, self._me, self._db.lease_clock(), after, limit)

    async def published(self, up_to_seq: int) -> None:
        """The broker took every status this daemon read up to `up_to_seq`."""
        await self._db.write(_delete_up_to, up_to_seq, self._me.name)


def _pending(
    db: Connection, me: Claimant, now: float, after: int, limit: int
) -> list[tuple[int, str, str]]:
    alive = now - me.lease
    found = db.execute(
        _PENDING, (me.name, after, me.name, alive, me.name, alive, limit)
    ).fetchall()
    ids = [r[0] for r in found]
    if ids:
        db.execute(
            f"UPDATE status_out SET claimed_by = ? WHERE seq IN ({marks(ids)})", [me.name, *ids]
        )
    return found


def _delete_up_to(db: Connection, seq: int, name: str) -> None:
    db.execute("DELETE FROM status_out WHERE seq <= ? AND claimed_by = ?", (seq, name))
