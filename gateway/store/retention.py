"""Personal data has a shelf life: numbers and texts go after `store.retention_days`.

Once a day, messages that reached a final state, MOs and dossiers older than the
retention period lose their phone numbers and texts. States, reasons, agencies,
procedures, segments and dates stay, and the reconciliation figures are kept apart from
the rows (`figures_schema`: triggers on state changes, none on these columns), so
`motcua-sms report` gives the same figures for those days as before the purge.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime

import structlog

from gateway.domain.states import FINAL_STATES
from gateway.settings.config import StoreConfig
from gateway.store.database import Connection, Database

log = structlog.get_logger("gateway.store.retention")

DAY = 86400.0

_FINALS = ", ".join(f"'{state}'" for state in sorted(FINAL_STATES))


class Retention:
    """The purge, as a repository of its own: it touches every table with personal data."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def purge_personal_data(self, before: float) -> dict[str, int]:
        """Forget numbers and texts of what ended before `before`; keep the figures."""
        return await self._db.write(_purge, before)


async def purge_once(
    retention: Retention, retention_days: int, *, now: float | None = None
) -> dict[str, int]:
    cutoff = (time.time() if now is None else now) - retention_days * DAY
    purged = await retention.purge_personal_data(cutoff)
    log.info("retention_purge", retention_days=retention_days, **purged)
    return purged


async def purge_daily(
    retention: Retention, config: StoreConfig, *, clock: Callable[[], float] = time.time
) -> None:
    """At start-up, then every 24 hours, until cancelled."""
    while True:
        await purge_once(retention, config.retention_days, now=clock())
        await asyncio.sleep(DAY)


def _purge(db: Connection, before: float) -> dict[str, int]:
    # `created_at < ?` says nothing more (a message is created before it last changes)
    # but bounds the index range (messages_state: state, created_at) to the messages old
    # enough: without it the purge read every finished message of the store, 4.5 s on
    # the store's only thread with 5,000,000 of them.
    messages = db.execute(
        f"""UPDATE messages SET phone = NULL, text = NULL, digest = NULL, zns = NULL,
                                chat_user = NULL
            WHERE updated_at < ? AND created_at < ? AND state IN ({_FINALS})
              AND (phone IS NOT NULL OR text IS NOT NULL OR digest IS NOT NULL)""",
        (before, before),
    ).rowcount
    db.execute(
        "UPDATE events SET digest = NULL WHERE received_at < ? AND digest IS NOT NULL",
        (before,),
    )
    db.execute(
        f"""DELETE FROM part_keys WHERE message_id IN
            (SELECT id FROM messages
             WHERE updated_at < ? AND created_at < ? AND state IN ({_FINALS}))""",
        (before, before),
    )
    # An e-mail copy's address, subject, text and receipt number, by the index of those
    # still holding an address.
    emails = db.execute(
        f"""UPDATE emails SET address = NULL, subject = NULL, body = NULL, qr = NULL
            WHERE created_at < ? AND address IS NOT NULL AND state IN ({_FINALS})""",
        (before,),
    ).rowcount
    mos = db.execute(
        "UPDATE mo_log SET sender = '', text = '' WHERE at < ? AND sender != ''", (before,)
    ).rowcount
    cutoff_day = datetime.fromtimestamp(before, UTC).isoformat()
    dossiers = db.execute(
        "UPDATE dossiers SET phone = NULL WHERE occurred_at < ? AND phone IS NOT NULL",
        (cutoff_day,),
    ).rowcount
    return {"messages": messages, "mo": mos, "dossiers": dossiers, "emails": emails}
