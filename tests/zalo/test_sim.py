"""The simulator as the gateway sees it: signed webhooks for deliveries and user texts,
rotating refresh tokens, its rules, and its control API, over real HTTP."""

from __future__ import annotations

import json

import aiohttp
import pytest

from gateway.settings.zalo import WebhookConfig
from gateway.zalo.client import ZaloClient
from gateway.zalo.server import ZaloWebhooks
from gateway.zalo.sim import OAUTH_PATH
from gateway.zalo.simrecords import ZaloSimConfig
from gateway.zalo.tokens import TokenKeeper
from gateway.zalo.webhook import Delivered, UserText
from tests.support.wait import eventually
from tests.support.zalo import DELAYED, DELIVERED, NEVER, zalo_rig

PARAMS = {"ma_ho_so": "0101701234"}


class Received:
    def __init__(self) -> None:
        self.delivered: list[Delivered] = []
        self.texts: list[UserText] = []

    async def on_delivered(self, report: Delivered) -> None:
        self.delivered.append(report)

    async def on_text(self, text: UserText) -> None:
        self.texts.append(text)


@pytest.fixture
async def wired(tmp_path, session, clock):
    """The gateway's webhook endpoint, the simulator posting to it, and a client."""
    received = Received()
    defaults = ZaloSimConfig()
    async with ZaloWebhooks(
        WebhookConfig(port=0),
        defaults.app_id,
        defaults.oa_secret_key,
        received.on_delivered,
        received.on_text,
    ) as hooks:
        url = f"http://127.0.0.1:{hooks.port}/zalo/webhook"
        async with zalo_rig(tmp_path, webhook_url=url) as rig:
            settings = rig.settings()
            client = ZaloClient(settings, TokenKeeper(settings, session, clock), session)
            yield rig, client, received


async def test_an_accepted_zns_is_confirmed_by_a_signed_webhook_with_our_tracking_id(wired):
    rig, client, received = wired

    msg_id = await client.send_zns(DELIVERED, "2001", PARAMS, "our-7")

    await eventually(lambda: received.delivered)
    assert [(d.msg_id, d.tracking_id) for d in received.delivered] == [(msg_id, "our-7")]
    assert rig.sim.webhooks[-1]["status"] == 200


async def test_a_never_delivered_number_gets_no_webhook(wired):
    rig, client, received = wired
    rig.sim.set_rule(NEVER, "never_delivered")

    await client.send_zns(NEVER, "2001", PARAMS, "never")
    await client.send_zns(DELIVERED, "2001", PARAMS, "control")  # delivered after it

    await eventually(lambda: received.delivered)
    assert [d.tracking_id for d in received.delivered] == ["control"]
    assert all(w["status"] == 200 for w in rig.sim.webhooks)


async def test_a_delayed_number_is_confirmed_after_its_delay(wired):
    rig, client, received = wired
    rig.sim.set_rule(DELAYED, "delay", 0.5)

    await client.send_zns(DELAYED, "2001", PARAMS, "late")
    await client.send_zns(DELIVERED, "2001", PARAMS, "prompt")

    await eventually(lambda: len(received.delivered) == 2)
    assert [d.tracking_id for d in received.delivered] == ["prompt", "late"]


async def test_a_user_s_text_reaches_the_gateway_through_the_control_api(wired):
    rig, _client, received = wired

    status, answer = await rig.control(
        "POST", "/user_text", {"user_id": "u-9", "text": "0101701234"}
    )

    assert (status, answer["status"]) == (200, 200)
    assert [(t.user_id, t.text, t.msg_id) for t in received.texts] == [
        ("u-9", "0101701234", answer["msg_id"])
    ]


async def test_a_webhook_refused_by_the_gateway_is_sent_again(tmp_path):
    """Zalo resends a webhook answered other than 200; the simulator does too."""
    calls: list[int] = []

    async def flaky(report: Delivered) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("store busy")

    async def ignore(_text: UserText) -> None:
        return None

    defaults = ZaloSimConfig()
    async with ZaloWebhooks(
        WebhookConfig(port=0), defaults.app_id, defaults.oa_secret_key, flaky, ignore
    ) as hooks:
        url = f"http://127.0.0.1:{hooks.port}/zalo/webhook"
        async with zalo_rig(tmp_path, webhook_url=url) as rig, aiohttp.ClientSession() as s:
            settings = rig.settings()
            client = ZaloClient(settings, TokenKeeper(settings, s, lambda: 0.0), s)
            await client.send_zns(DELIVERED, "2001", PARAMS, "again")

            await eventually(lambda: len(rig.sim.webhooks) == 2)
            assert [w["status"] for w in rig.sim.webhooks] == [500, 200]


async def test_each_refresh_token_works_once_with_zalo_s_error_shape_after(rig, session):
    url = rig.sim.base_url + OAUTH_PATH
    config = rig.sim.config
    form = {"app_id": config.app_id, "grant_type": "refresh_token"}
    headers = {"secret_key": config.secret_key}
    first = rig.sim.refresh_token

    async with session.post(url, data={**form, "refresh_token": first}, headers=headers) as r:
        granted = json.loads(await r.read())
    async with session.post(url, data={**form, "refresh_token": first}, headers=headers) as r:
        refused = json.loads(await r.read())

    assert set(granted) == {"access_token", "refresh_token", "expires_in"}
    assert isinstance(granted["expires_in"], str) and granted["refresh_token"] != first
    assert refused["error"] == -14006 and "error_name" in refused


async def test_the_zns_answer_has_zalo_s_shape(rig, session):
    settings = rig.settings()
    token = await TokenKeeper(settings, session, lambda: 0.0).access_token()
    body = {"phone": DELIVERED, "template_id": "2001", "template_data": PARAMS, "tracking_id": "t"}

    async with session.post(settings.zns_url, json=body, headers={"access_token": token}) as r:
        answer = json.loads(await r.read())

    assert (answer["error"], answer["message"]) == (0, "Success")
    assert set(answer["data"]) == {"msg_id", "sent_time", "quota"}


async def test_the_control_api_lists_what_was_sent_and_counts_refreshes(wired):
    rig, client, _received = wired
    await client.send_zns(DELIVERED, "2001", PARAMS, "listed")
    await client.send_chat("u-1", "Hồ sơ đang xử lý")

    _, sent = await rig.control("GET", "/zns")
    _, chat = await rig.control("GET", "/chat")
    _, stats = await rig.control("GET", "/stats")

    assert [(m["phone"], m["tracking_id"]) for m in sent] == [(DELIVERED, "listed")]
    assert [c["text"] for c in chat] == ["Hồ sơ đang xử lý"]
    assert (stats["refreshes"], stats["zns_sent"], stats["chat_replies"]) == (1, 1, 1)


async def test_the_control_api_sets_rules_lifetime_templates_and_down(rig):
    assert (await rig.control("POST", "/rules", {"phone": "+84905000009", "rule": "quota"}))[
        0
    ] == 200
    assert rig.sim.rules["84905000009"].rule == "quota"
    assert (await rig.control("POST", "/token_lifetime", {"seconds": 5}))[0] == 200
    assert rig.sim.token_lifetime == 5
    assert (await rig.control("POST", "/templates", {"template_id": "7", "approved": False}))[
        0
    ] == 200
    assert rig.sim.templates == {"7": False}
    assert (await rig.control("POST", "/down", {}))[0] == 200
    assert rig.sim.is_down
    assert (await rig.control("POST", "/up"))[0] == 200
    assert not rig.sim.is_down
    assert (await rig.control("POST", "/down", {"refuse": True, "seconds": 0.05}))[0] == 200
    assert rig.sim.is_down
    await eventually(lambda: not rig.sim.is_down)
    assert (await rig.control("POST", "/rules/clear"))[0] == 200
    assert rig.sim.rules == {}


@pytest.mark.parametrize(
    ("path", "body", "error"),
    [
        ("/rules", {"phone": "849", "rule": "lost"}, "rule: one of"),
        ("/rules", {"phone": "849", "rule": "delay"}, "seconds: a number"),
        ("/rules", {"rule": "quota"}, "phone: required string"),
        ("/token_lifetime", {"seconds": -1}, "0 or more"),
        ("/templates", {"template_id": "1", "approved": "yes"}, "approved: true or false"),
        ("/user_text", {"user_id": "u"}, "text: required string"),
        ("/down", [1], "a JSON object expected"),
    ],
)
async def test_the_control_api_refuses_a_bad_request_with_a_reason(rig, path, body, error):
    status, answer = await rig.control("POST", path, body)

    assert status == 400
    assert error in answer["error"]


async def test_a_user_text_without_a_webhook_url_is_refused_409(rig):
    status, _ = await rig.control("POST", "/user_text", {"user_id": "u", "text": "x"})

    assert status == 409


async def test_an_expired_access_token_is_refused_with_zalo_s_code(rig, session):
    rig.sim.token_lifetime = 1
    settings = rig.settings()
    token = await TokenKeeper(settings, session, lambda: 0.0).access_token()
    body = {"phone": DELIVERED, "template_id": "2001", "template_data": PARAMS}

    async def refused() -> bool:
        async with session.post(settings.zns_url, json=body, headers={"access_token": token}) as r:
            return json.loads(await r.read())["error"] == -124

    await eventually(refused, poll=0.1)
