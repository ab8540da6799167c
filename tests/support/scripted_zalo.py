"""A ZaloSender running against a Zalo API scripted by the test (aiohttp routes on a free
127.0.0.1 port): for answers the simulator does not give, such as "Success" without the ids.

`async with sender_on_script(tmp_path, store_location, routes) as run:` opens the store,
starts the sender with `zalo:` pointing at the routes (`/zns` for ZNS, `/oa` for chat
replies), and stops it on the way out; `run.notice(ref)` queues SCT's result notice to a
number on Zalo, `run.settled(ref)` waits until the sender has decided it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from gateway.compose.composer import Composer
from gateway.outbound.zalo import ZaloSender
from gateway.settings.config import RetryConfig
from gateway.store.store import Store
from gateway.web import LocalServer
from gateway.zalo.client import zalo_client
from tests.support.channels import state_and_channel, zalo_composer
from tests.support.clock import NOON, Ticking
from tests.support.figures import dossier
from tests.support.wait import eventually
from tests.support.zalo import DELIVERED, zalo_rig

ZNS_PATH = "/zns"
OA_PATH = "/oa"


@dataclass
class ScriptedRun:
    store: Store
    composer: Composer

    async def notice(self, ref: str) -> None:
        """SCT's result notice `ref`, to a number on Zalo, as intake records it."""
        row = dossier(ref, status="result_ready", phone="0" + DELIVERED[2:])
        await self.store.dossiers.record_intake(
            dossiers=[row], messages=[self.composer.notice("result", row, event_id=ref, ref=ref)]
        )

    async def settled(self, ref: str) -> tuple:
        """(state, channel) of `ref` once the sender has taken it off the Zalo queue."""

        async def decided() -> bool:
            return await state_and_channel(self.store, ref) != ("queued", "zalo")

        await eventually(decided, 10, poll=0.02)
        return await state_and_channel(self.store, ref)


@asynccontextmanager
async def sender_on_script(
    tmp_path: Path, store_location: str | Path, routes: Sequence[web.RouteDef]
) -> AsyncIterator[ScriptedRun]:
    clock = Ticking(NOON)
    async with (
        zalo_rig(tmp_path) as zalo,
        LocalServer(list(routes)) as api,
        Store.open(store_location, clock=clock) as store,
    ):
        base = f"http://127.0.0.1:{api.port}"
        settings = zalo.settings(zns_url=base + ZNS_PATH, oa_message_url=base + OA_PATH)
        async with zalo_client(settings) as client:
            sender = ZaloSender(
                store.outbox, store.zalo, client, RetryConfig(max_attempts=3),
                fallback_after=600.0, clock=clock,
            )  # fmt: skip
            task = asyncio.create_task(sender.run())
            try:
                yield ScriptedRun(store, zalo_composer(clock))
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
