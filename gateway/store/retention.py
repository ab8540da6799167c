"""Personal data has a shelf life: numbers and texts go after `store.retention_days`.

Once a day, messages that reached a final state, MOs and dossiers older than the
retention period lose their phone numbers and texts. Counts, states, reasons, agencies,
procedures, segments and dates stay, so `motcua-sms report` gives the same figures
for those days as before the purge.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import structlog

from gateway.settings.config import StoreConfig
from gateway.store.store import Store

log = structlog.get_logger("gateway.store.retention")

DAY = 86400.0


async def purge_once(
    store: Store, retention_days: int, *, now: float | None = None
) -> dict[str, int]:
    cutoff = (time.time() if now is None else now) - retention_days * DAY
    purged = await store.purge_personal_data(cutoff)
    log.info("retention_purge", retention_days=retention_days, **purged)
    return purged


async def purge_daily(
    store: Store, config: StoreConfig, *, clock: Callable[[], float] = time.time
) -> None:
    """At start-up, then every 24 hours, until cancelled."""
    while True:
        await purge_once(store, config.retention_days, now=clock())
        await asyncio.sleep(DAY)
