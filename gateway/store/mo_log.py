"""The MO log: every MO, stored before its deliver_sm_resp, with what became of it."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.domain.message import MoRecord, NewMessage
from gateway.store.database import Connection, Database, rows
from gateway.store.dossiers import record_intake


class MoLog:
    """What the MO dispatcher asks of the store."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record_mos(self, items: Sequence[tuple[MoRecord, NewMessage | None]]) -> None:
        """Each MO with its reply (if any), in one transaction: a reply is never queued
        for an MO that is not stored, and a stored MO's reply is never lost."""
        if not items:
            return
        replies = [reply for _, reply in items if reply is not None]
        await self._db.write(_record_mos, items, replies, self._db.clock())
        if replies:
            self._db.status_added.set()
            self._db.queued_added.set()
            self._db.reply_added.set()

    async def recent_mos(self, since: float) -> list[tuple[float, str, str, str]]:
        """(at, sender, text, outcome) of the MOs since `since`, oldest first."""
        return await self._db.read(
            rows, "SELECT at, sender, text, outcome FROM mo_log WHERE at >= ? ORDER BY at", (since,)
        )


def _record_mos(
    db: Connection,
    items: Sequence[tuple[MoRecord, NewMessage | None]],
    replies: Sequence[NewMessage],
    now: float,
) -> None:
    db.executemany(
        "INSERT INTO mo_log (at, sender, shortcode, text, keyword, outcome, reply_ref)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (m.at, m.sender, m.shortcode, m.text, m.keyword, m.outcome, m.reply_ref)
            for m, _ in items
        ],
    )
    record_intake(db, [], [], replies, [], now)
