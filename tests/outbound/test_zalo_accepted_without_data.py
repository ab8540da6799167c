"""Zalo answers "Success" (error 0) to a ZNS request with `data` null or missing: it has
the notice, exactly as with a `data` lacking its `msg_id`. The notice waits for its receipt
(or the fallback timer): no SMS at once (a second, paid copy), no stop of every Zalo notice
for STOP_PAUSE."""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from gateway.outbound.zalo import ZaloSender
from gateway.settings.config import RetryConfig
from gateway.store.store import Store
from gateway.web import LocalServer, json_response
from gateway.zalo.client import zalo_client
from tests.support.channels import zalo_composer
from tests.support.clock import NOON, Ticking
from tests.support.figures import dossier
from tests.support.store_reads import db_rows
from tests.support.wait import eventually
from tests.support.zalo import DELIVERED, zalo_rig


async def test_a_notice_zalo_accepted_with_data_null_waits_for_its_receipt_not_sms(
    tmp_path, store_location
):
    clock = Ticking(NOON)
    posted: list[bytes] = []

    async def success_without_data(request: web.Request) -> web.Response:
        posted.append(await request.read())
        return json_response(200, {"error": 0, "message": "Success", "data": None})

    async with (
        zalo_rig(tmp_path) as zalo,
        LocalServer([web.post("/message/template", success_without_data)]) as zns,
        Store.open(store_location, clock=clock) as store,
    ):
        settings = zalo.settings(zns_url=f"http://127.0.0.1:{zns.port}/message/template")
        row = dossier("n1", status="result_ready", phone="0" + DELIVERED[2:])
        composer = zalo_composer(clock)
        await store.dossiers.record_intake(
            dossiers=[row], messages=[composer.notice("result", row, event_id="n1", ref="n1")]
        )
        async with zalo_client(settings) as client:
            sender = ZaloSender(
                store.outbox, store.zalo, client, RetryConfig(max_attempts=3),
                fallback_after=600.0, clock=clock,
            )  # fmt: skip
            task = asyncio.create_task(sender.run())
            try:

                async def decided() -> bool:
                    rows = await db_rows(store, "SELECT state, channel FROM messages")
                    return rows != [("queued", "zalo")]

                await eventually(decided, 10, poll=0.02)
                ((state, channel),) = await db_rows(store, "SELECT state, channel FROM messages")
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    assert len(posted) == 1
    # Now: ("queued", "sms") at once, with Zalo stopped for every notice for 300 s.
    assert (state, channel) == ("submitted", "zalo")
