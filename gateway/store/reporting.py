"""Reads for `motcua-sms report`, on a store opened read-only beside the daemon.

A store of an older schema is read as it is; a query it cannot answer is StoreOutdated
(`Database.read`), which the command reports as such.
"""

from __future__ import annotations

from typing import NamedTuple

from gateway.store.database import Database, rows


class ReportedMessage(NamedTuple):
    """What the report counts of one message; `mo_outcome` is the outcome of the MO an
    MO reply answered (None for other messages)."""

    agency: str
    procedure: str | None
    kind: str
    state: str
    reason: str | None
    segments: int
    created_at: float
    mo_outcome: str | None


MESSAGES_CREATED = """SELECT m.agency, m.procedure, m.kind, m.state, m.reason, m.segments,
                  m.created_at, mo_log.outcome
           FROM messages AS m LEFT JOIN mo_log ON mo_log.reply_ref = m.ref
           WHERE m.created_at >= ? AND m.created_at < ?"""


class Reporting:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def messages_created(self, since: float, until: float) -> list[ReportedMessage]:
        """Every message created in [since, until), with its MO's outcome if a reply."""
        found = await self._db.read(rows, MESSAGES_CREATED, (since, until))
        return [ReportedMessage(*row) for row in found]
