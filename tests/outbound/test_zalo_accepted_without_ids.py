"""Zalo answers "Success" (error 0) without the id of what it accepted.

- A ZNS notice with `data` null, missing, or lacking its `msg_id`: Zalo has the notice. It
  waits for its receipt (or the fallback timer): no SMS at once (a second, paid copy to
  the citizen), no stop of every Zalo notice for STOP_PAUSE.
- A chat reply without its `message_id` is that reply's trouble alone: it does not stop Zalo
  for every agency's notices, which would all go by paid SMS for five minutes."""

from __future__ import annotations

import pytest
from aiohttp import web

from gateway.web import json_response
from tests.support.scripted_zalo import OA_PATH, ZNS_PATH, sender_on_script

ACCEPTED = {"error": 0, "message": "Success", "data": {"msg_id": "z1"}}


@pytest.mark.parametrize(
    "answer",
    [
        {"error": 0, "message": "Success", "data": None},
        {"error": 0, "message": "Success"},
        {"error": 0, "message": "Success", "data": {"sent_time": "1"}},
    ],
    ids=["data-null", "no-data", "no-msg-id"],
)
async def test_a_notice_zalo_accepted_without_its_id_waits_for_its_receipt_not_sms(
    tmp_path, store_location, answer
):
    posted: list[bytes] = []

    async def zns(request: web.Request) -> web.Response:
        posted.append(await request.read())
        return json_response(200, answer)

    async with sender_on_script(tmp_path, store_location, [web.post(ZNS_PATH, zns)]) as run:
        await run.notice("n1")
        decided = await run.settled("n1")

    assert len(posted) == 1
    # Else: ("queued", "sms") at once, with Zalo stopped for every notice for 300 s.
    assert decided == ("submitted", "zalo")


async def test_a_chat_reply_accepted_without_message_id_does_not_send_notices_by_sms(
    tmp_path, store_location
):
    zns_posted: list[bytes] = []

    async def chat_without_id(request: web.Request) -> web.Response:
        await request.read()
        return json_response(200, {"error": 0, "message": "Success", "data": {"user_id": "u-1"}})

    async def zns(request: web.Request) -> web.Response:
        zns_posted.append(await request.read())
        return json_response(200, ACCEPTED)

    routes = [web.post(OA_PATH, chat_without_id), web.post(ZNS_PATH, zns)]
    async with sender_on_script(tmp_path, store_location, routes) as run:
        reply = run.composer.text("SCT", ref="mo:1", kind="mo_reply", to=None,
                                  text="Ho so 0101", chat_user="u-1")  # fmt: skip
        await run.store.dossiers.record_intake(messages=[reply])
        await run.settled("mo:1")
        await run.notice("n1")
        decided = await run.settled("n1")

    # Else: the notice is handed to SMS unsent to Zalo ("stopped, the gateway's access was
    # refused"), as is every notice for the next 300 s.
    assert decided == ("submitted", "zalo")
    assert len(zns_posted) == 1
