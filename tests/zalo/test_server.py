"""The webhook endpoint over real HTTP: 401 for a bad signature, 400 for a bad body, 409
for a replay, 200 only once the callback returned, 500 when it raised."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
import structlog

from gateway.settings.zalo import WebhookConfig
from gateway.zalo.server import ZaloWebhooks
from gateway.zalo.webhook import Delivered, UserText, signature
from tests.support.clock import Clock
from tests.support.wait import eventually

APP_ID, SECRET = "app-1", "oa-secret"
NOW = 1_764_590_000.0


def event(name: str = "user_received_message", msg_id: str = "z-1", ts: float = NOW) -> dict:
    stamp = str(int(ts * 1000))
    if name == "user_send_text":
        return {
            "app_id": APP_ID,
            "event_name": name,
            "sender": {"id": "u-7"},
            "recipient": {"id": "oa"},
            "message": {"msg_id": msg_id, "text": "MCKH 0101701234"},
            "timestamp": stamp,
        }
    return {
        "app_id": APP_ID,
        "event_name": name,
        "sender": {"id": "oa"},
        "recipient": {"id": "u-1"},
        "message": {"msg_id": msg_id, "tracking_id": "ours-1", "delivery_time": stamp},
        "timestamp": stamp,
    }


def signed(body: bytes, timestamp: str) -> dict[str, str]:
    return {"X-ZEvent-Signature": "mac=" + signature(body, APP_ID, SECRET, timestamp)}


class Hooks:
    def __init__(self) -> None:
        self.delivered: list[Delivered] = []
        self.texts: list[UserText] = []
        self.fail = False

    async def on_delivered(self, report: Delivered) -> None:
        if self.fail:
            raise RuntimeError("store unavailable")
        self.delivered.append(report)

    async def on_text(self, text: UserText) -> None:
        self.texts.append(text)


@pytest.fixture
def hooks() -> Hooks:
    return Hooks()


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
async def endpoint(hooks, clock):
    settings = WebhookConfig(port=0, max_age=300.0)
    async with ZaloWebhooks(
        settings, APP_ID, SECRET, hooks.on_delivered, hooks.on_text, clock=clock
    ) as server:
        yield server


async def post(
    server: ZaloWebhooks, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    url = f"http://127.0.0.1:{server.port}/zalo/webhook"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers or {}) as reply,
    ):
        return reply.status, json.loads(await reply.read())


async def post_event(server: ZaloWebhooks, payload: dict) -> tuple[int, Any]:
    body = json.dumps(payload).encode()
    return await post(server, body, signed(body, payload["timestamp"]))


async def test_a_signed_delivery_is_handed_over_then_answered_200(endpoint, hooks):
    status, answer = await post_event(endpoint, event())

    assert (status, answer) == (200, {"ok": True})
    assert [(d.msg_id, d.tracking_id) for d in hooks.delivered] == [("z-1", "ours-1")]


async def test_a_signed_user_text_is_handed_over(endpoint, hooks):
    status, _ = await post_event(endpoint, event("user_send_text", msg_id="t-1"))

    assert status == 200
    assert [(t.user_id, t.text) for t in hooks.texts] == [("u-7", "MCKH 0101701234")]


async def test_a_wrong_signature_is_refused_401_and_nothing_believed(endpoint, hooks):
    body = json.dumps(event()).encode()

    status, _ = await post(endpoint, body, {"X-ZEvent-Signature": "mac=" + "ab" * 32})

    assert status == 401
    assert hooks.delivered == []


async def test_a_missing_signature_is_refused_401(endpoint, hooks):
    status, _ = await post(endpoint, json.dumps(event()).encode())

    assert status == 401
    assert hooks.delivered == []


async def test_malformed_json_is_refused_400(endpoint, hooks):
    status, answer = await post(endpoint, b"{not json", {"X-ZEvent-Signature": "mac=00"})

    assert (status, answer) == (400, {"error": "body is not JSON"})


async def test_a_signed_event_missing_a_field_is_refused_400(endpoint, hooks):
    payload = event()
    del payload["message"]["msg_id"]

    status, answer = await post_event(endpoint, payload)

    assert (status, answer) == (400, {"error": "message.msg_id missing"})
    assert hooks.delivered == []


async def test_a_webhook_older_than_max_age_is_refused_as_a_replay(endpoint, hooks):
    status, _ = await post_event(endpoint, event(ts=NOW - 301))

    assert status == 409
    assert hooks.delivered == []


async def test_a_webhook_from_the_future_is_refused_as_a_replay(endpoint, hooks):
    status, _ = await post_event(endpoint, event(ts=NOW + 3600))

    assert status == 409
    assert hooks.delivered == []


async def test_a_webhook_within_max_age_is_taken(endpoint, hooks):
    status, _ = await post_event(endpoint, event(ts=NOW - 299))

    assert status == 200


async def test_an_event_already_handled_is_answered_200_and_not_handed_over_again(
    endpoint, hooks, clock
):
    await post_event(endpoint, event())
    clock.now += 10

    status, answer = await post_event(endpoint, event(ts=NOW + 5))  # same msg_id, new stamp

    assert (status, answer) == (200, {"ignored": "duplicate"})
    assert len(hooks.delivered) == 1


async def test_the_same_event_twice_at_once_is_handed_over_once(hooks, clock):
    release = asyncio.Event()
    handed: list[Delivered] = []

    async def slow(report: Delivered) -> None:
        handed.append(report)
        await release.wait()

    settings = WebhookConfig(port=0)
    async with ZaloWebhooks(settings, APP_ID, SECRET, slow, hooks.on_text, clock=clock) as server:
        first = asyncio.create_task(post_event(server, event()))
        await eventually(lambda: handed)
        second = await post_event(server, event())
        release.set()
        done = await first

    assert (second[0], done[0]) == (409, 200)
    assert len(handed) == 1


async def test_a_failing_callback_is_answered_500_and_its_retry_taken(endpoint, hooks):
    hooks.fail = True
    status, _ = await post_event(endpoint, event())
    hooks.fail = False

    again, _ = await post_event(endpoint, event())

    assert (status, again) == (500, 200)
    assert len(hooks.delivered) == 1


async def test_an_unknown_event_is_answered_200_and_ignored(endpoint, hooks):
    payload = {"app_id": APP_ID, "event_name": "follow", "timestamp": str(int(NOW * 1000))}

    status, answer = await post_event(endpoint, payload)

    assert (status, answer) == (200, {"ignored": "follow"})


async def test_another_path_is_404(endpoint):
    url = f"http://127.0.0.1:{endpoint.port}/other"
    async with aiohttp.ClientSession() as session, session.post(url, data=b"{}") as reply:
        assert reply.status == 404


async def test_handled_ids_are_forgotten_after_max_age(hooks, clock):
    settings = WebhookConfig(port=0, max_age=300.0)
    async with ZaloWebhooks(
        settings, APP_ID, SECRET, hooks.on_delivered, hooks.on_text, clock=clock
    ) as server:
        await post_event(server, event(msg_id="old"))
        clock.now += 400
        await post_event(server, event(msg_id="new", ts=clock.now))

        assert server.remembered == 1


async def test_handled_ids_are_bounded(hooks, clock):
    settings = WebhookConfig(port=0, max_age=300.0)
    async with ZaloWebhooks(
        settings, APP_ID, SECRET, hooks.on_delivered, hooks.on_text, clock=clock, max_remembered=3
    ) as server:
        for i in range(5):
            await post_event(server, event(msg_id=f"m-{i}"))

        assert server.remembered == 3


async def test_refusals_are_logged_with_a_reason_and_never_the_body(endpoint):
    payload = event("user_send_text")
    with structlog.testing.capture_logs() as logs:
        await post(endpoint, json.dumps(payload).encode(), {"X-ZEvent-Signature": "mac=00"})

    (line,) = [e for e in logs if e["event"] == "zalo_webhook_refused"]
    assert (line["status"], line["reason"]) == (401, "signature missing or wrong")
    assert "MCKH" not in repr(logs)


@pytest.mark.parametrize("body", [b"[" * 50_000, b'{"a":' * 12_000], ids=["list", "object"])
async def test_a_body_nested_deeper_than_json_goes_is_refused_400(endpoint, hooks, body):
    status, _ = await post(endpoint, body, {"X-ZEvent-Signature": "mac=" + "00" * 32})

    assert status == 400
    assert hooks.delivered == [] and hooks.texts == []
