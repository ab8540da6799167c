"""Status outbox → `{prefix}/{agency}/status`, in order, at least once.

Statuses are written by the store in the same transaction as the change they report;
this loop publishes them (QoS 1) and deletes them only after the broker has them. A crash
in between publishes some twice, never none: consumers key on `id` + `state`.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from gateway.mqtt import MqttLink
from gateway.store import Store

log = structlog.get_logger("gateway.publisher")


async def publish_statuses(store: Store, link: MqttLink, prefix: str) -> None:
    """Run until cancelled."""
    while True:
        store.status_added.clear()
        rows = await store.pending_statuses()
        if not rows:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(store.status_added.wait(), 5.0)
            continue
        # Concurrently: one at a time, each PUBACK round trip would cap the rate.
        await asyncio.gather(
            *(
                link.publish(f"{prefix}/{agency}/status", payload.encode(), qos=1)
                for _seq, agency, payload in rows
            )
        )
        await store.statuses_published(rows[-1][0])
