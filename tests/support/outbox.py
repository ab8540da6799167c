"""Rigs that send through the outbox: its configuration, and queueing a message to send.

A sender test puts a message in the store as intake would (composed, then recorded) and
reads back what the sender and tracker made of it: states, pending statuses.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Generic, TypeVar

from gateway.compose.composer import Composer
from gateway.domain.message import Priority
from gateway.settings.config import Config, RetryConfig, default_config
from gateway.smpp.codes import Status
from gateway.smpp.sim import Rule
from gateway.store.store import Store
from tests.support.store_reads import db_rows

S = TypeVar("S")  # the SMSC at the other end: the simulator, or a scripted one


# Every submit to these numbers is answered ESME_RTHROTTLED, for ever.
THROTTLED = Rule("84905*", "nack", status=Status.ESME_RTHROTTLED)


def without_quiet_hours(base: Config | None = None) -> Config:
    """`base` (the embedded defaults) with no quiet hours: a notice queued at night in a
    test goes at once, so the test runs at any hour."""
    base = default_config() if base is None else base
    return dataclasses.replace(base, schedule=dataclasses.replace(base.schedule, quiet_hours=None))


def config(**retry: float) -> Config:
    """Fast retries, and no quiet hours."""
    return dataclasses.replace(
        without_quiet_hours(),
        retry=dataclasses.replace(RetryConfig(), base_delay=0.05, max_delay=0.1, **retry),
    )


async def queue_text(
    store: Store,
    composer: Composer,
    ref: str = "job-1",
    *,
    to: str = "0905123456",
    text: str = "Thong bao",
    priority: Priority = Priority.NOTICE,
) -> None:
    """SCT's SMS job `ref`, composed and recorded as intake records it: queued to send."""
    message = composer.text("SCT", ref=ref, kind="sms", to=to, text=text, priority=priority)
    await store.dossiers.record_intake(messages=[message])


class OutboxRig(Generic[S]):
    """A store, the SMSC and a composer; the sender and tracker run beside it."""

    def __init__(self, store: Store, smsc: S, composer: Composer) -> None:
        self.store = store
        self.smsc = smsc
        self.composer = composer

    async def queue(
        self,
        ref: str = "job-1",
        *,
        to: str = "0905123456",
        text: str = "Thong bao",
        priority: Priority = Priority.NOTICE,
    ) -> None:
        await queue_text(self.store, self.composer, ref, to=to, text=text, priority=priority)

    async def states(self) -> dict[str, int]:
        """How many messages are in each state."""
        return await self.store.outbox.counts()

    async def state(self, ref: str) -> str:
        ((state,),) = await db_rows(self.store, "SELECT state FROM messages WHERE ref = ?", [ref])
        return state

    async def statuses(self) -> list[dict[str, Any]]:
        """The status events waiting to be published, oldest first."""
        return [json.loads(p) for _, _, p in await self.store.statuses.pending(10_000)]
