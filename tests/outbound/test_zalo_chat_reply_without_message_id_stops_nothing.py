"""A chat reply that Zalo answers "Success" without a `message_id` is that reply's
trouble alone: it does not stop Zalo (STOP_PAUSE) for every agency's notices, which would
all go by paid SMS for five minutes instead of by Zalo."""

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


async def test_a_chat_reply_accepted_without_message_id_does_not_send_notices_by_sms(
    tmp_path, store_location
):
    clock = Ticking(NOON)
    zns_posted: list[bytes] = []

    async def chat_without_id(request: web.Request) -> web.Response:
        await request.read()
        return json_response(200, {"error": 0, "message": "Success", "data": {"user_id": "u-1"}})

    async def zns_ok(request: web.Request) -> web.Response:
        zns_posted.append(await request.read())
        return json_response(200, {"error": 0, "message": "Success", "data": {"msg_id": "z1"}})

    async with (
        zalo_rig(tmp_path) as zalo,
        LocalServer([web.post("/oa", chat_without_id), web.post("/zns", zns_ok)]) as api,
        Store.open(store_location, clock=clock) as store,
    ):
        base = f"http://127.0.0.1:{api.port}"
        settings = zalo.settings(zns_url=base + "/zns", oa_message_url=base + "/oa")
        composer = zalo_composer(clock)
        reply = composer.text("SCT", ref="mo:1", kind="mo_reply", to=None,
                              text="Ho so 0101", chat_user="u-1")  # fmt: skip
        await store.dossiers.record_intake(messages=[reply])
        async with zalo_client(settings) as client:
            sender = ZaloSender(
                store.outbox, store.zalo, client, RetryConfig(max_attempts=3),
                fallback_after=600.0, clock=clock,
            )  # fmt: skip
            task = asyncio.create_task(sender.run())
            try:

                async def reply_done() -> bool:
                    rows = await db_rows(store, "SELECT state FROM messages WHERE ref = 'mo:1'")
                    return rows != [("queued",)]

                await eventually(reply_done, 10, poll=0.02)
                row = dossier("n1", status="result_ready", phone="0" + DELIVERED[2:])
                await store.dossiers.record_intake(
                    dossiers=[row],
                    messages=[composer.notice("result", row, event_id="n1", ref="n1")],
                )

                async def notice_decided() -> bool:
                    rows = await db_rows(
                        store, "SELECT state, channel FROM messages WHERE ref = 'n1'"
                    )
                    return rows != [("queued", "zalo")]

                await eventually(notice_decided, 10, poll=0.02)
                ((state, channel),) = await db_rows(
                    store, "SELECT state, channel FROM messages WHERE ref = 'n1'"
                )
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    # Now: the notice is handed to SMS unsent to Zalo ("stopped, the gateway's access was
    # refused"), as is every notice for the next 300 s.
    assert (state, channel) == ("submitted", "zalo")
    assert len(zns_posted) == 1
