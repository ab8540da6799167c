"""ZNS notices and OA chat replies against the simulator over real HTTP: every
classification path, and the token refreshed once when Zalo calls it invalid."""

from __future__ import annotations

import pytest
import structlog
from aiohttp import web

from gateway.web import LocalServer, json_response
from gateway.zalo.client import ZaloClient, zalo_client, zalo_phone
from gateway.zalo.errors import ZnsAction, ZnsError
from gateway.zalo.tokens import TokenKeeper
from tests.support.broker import free_port
from tests.support.zalo import DELIVERED, NEVER, NO_ZALO, QUOTA

PARAMS = {"ma_ho_so": "0101701234", "co_quan": "Sở Công Thương"}


@pytest.fixture
def client_for(rig, session, clock):
    def make(**overrides: object) -> ZaloClient:
        settings = rig.settings(**overrides)
        return ZaloClient(settings, TokenKeeper(settings, session, clock), session)

    return make


async def refused(call) -> ZnsError:
    with pytest.raises(ZnsError) as info:
        await call
    return info.value


async def test_a_zns_is_sent_with_our_tracking_id_and_returns_zalo_s_msg_id(rig, client_for):
    msg_id = await client_for().send_zns("+" + DELIVERED, "2001", PARAMS, "msg-42")

    (sent,) = rig.sim.sent
    assert sent.msg_id == msg_id
    assert (sent.phone, sent.template_id, sent.tracking_id) == (DELIVERED, "2001", "msg-42")
    assert sent.template_data == PARAMS


def test_our_phone_forms_become_zalo_s_international_form():
    assert zalo_phone("+84912345678") == zalo_phone("84912345678") == "84912345678"


@pytest.mark.parametrize("phone", ["0912345678", "+1 555", "", "84", "８４９１２"])
def test_a_phone_not_in_international_form_is_refused(phone):
    with pytest.raises(ValueError):
        zalo_phone(phone)


async def test_a_phone_not_in_international_form_falls_back_unsent(rig, client_for):
    error = await refused(client_for().send_zns("0912345678", "2001", PARAMS, "m"))

    assert (error.code, error.action) == (-108, ZnsAction.FALLBACK)
    assert rig.sim.sent == []


async def test_a_number_without_zalo_falls_back(rig, client_for):
    rig.sim.set_rule(NO_ZALO, "no_zalo")

    error = await refused(client_for().send_zns(NO_ZALO, "2001", PARAMS, "m"))

    assert (error.code, error.action) == (-118, ZnsAction.FALLBACK)


async def test_an_exhausted_quota_falls_back(rig, client_for):
    rig.sim.set_rule(QUOTA, "quota")

    error = await refused(client_for().send_zns(QUOTA, "2001", PARAMS, "m"))

    assert (error.code, error.action) == (-115, ZnsAction.FALLBACK)


async def test_an_unknown_template_falls_back(rig, client_for):
    rig.sim.templates.update({"2001": True})

    error = await refused(client_for().send_zns(DELIVERED, "9999", PARAMS, "m"))

    assert (error.code, error.action) == (-109, ZnsAction.FALLBACK)


async def test_an_unapproved_template_falls_back(rig, client_for):
    rig.sim.templates.update({"2001": False})

    error = await refused(client_for().send_zns(DELIVERED, "2001", PARAMS, "m"))

    assert (error.code, error.action) == (-117, ZnsAction.FALLBACK)


async def test_zalo_down_is_retried(rig, client_for):
    client = client_for()
    await client.send_zns(DELIVERED, "2001", PARAMS, "first")  # token fetched while up
    await rig.sim.down()

    error = await refused(client.send_zns(DELIVERED, "2001", PARAMS, "m"))

    assert (error.code, error.action) == (503, ZnsAction.RETRY)


async def test_zalo_unreachable_for_a_while_is_retried_then_sends_again(rig, client_for):
    client = client_for()
    await client.send_zns(DELIVERED, "2001", PARAMS, "before")
    await rig.sim.down(refuse=True)

    error = await refused(client.send_zns(DELIVERED, "2001", PARAMS, "during"))
    await rig.sim.up()
    await client.send_zns(DELIVERED, "2001", PARAMS, "after")

    assert (error.code, error.action) == (0, ZnsAction.RETRY)
    assert [m.tracking_id for m in rig.sim.sent] == ["before", "after"]


async def test_a_zns_zalo_takes_but_answers_after_the_timeout_is_unanswered(rig, client_for):
    client = client_for(timeout=0.2)
    await client.send_zns(DELIVERED, "2001", PARAMS, "first")
    rig.sim.response_delay = 0.5

    error = await refused(client.send_zns(DELIVERED, "2001", PARAMS, "late"))

    assert (error.code, error.action) == (0, ZnsAction.UNANSWERED)
    assert [m.tracking_id for m in rig.sim.sent] == ["first", "late"]  # Zalo has it


async def test_a_refused_connection_is_retried(rig, client_for):
    await client_for().send_zns(DELIVERED, "2001", PARAMS, "first")
    url = f"http://127.0.0.1:{free_port()}/message/template"
    client = client_for(zns_url=url)

    error = await refused(client.send_zns(DELIVERED, "2001", PARAMS, "m"))

    assert (error.code, error.action) == (0, ZnsAction.RETRY)


async def test_a_token_refresh_refused_stops_zalo(rig, client_for):
    error = await refused(client_for(secret_key="wrong").send_zns(DELIVERED, "2001", PARAMS, "m"))

    assert error.action is ZnsAction.STOP
    assert rig.sim.sent == []


async def test_an_invalid_token_is_refreshed_once_and_the_send_tried_again(rig, client_for):
    client = client_for()
    await client.send_zns(DELIVERED, "2001", PARAMS, "first")
    rig.sim.revoke()

    await client.send_zns(DELIVERED, "2001", PARAMS, "second")

    assert [m.tracking_id for m in rig.sim.sent] == ["first", "second"]
    assert (rig.sim.refreshes, rig.sim.refused_tokens) == (2, 1)


async def test_a_token_invalid_again_after_the_refresh_stops_zalo(rig, client_for):
    rig.sim.revoke(for_good=True)  # every token Zalo gives is refused (app unlinked)

    error = await refused(client_for().send_zns(DELIVERED, "2001", PARAMS, "m"))

    assert (error.code, error.action) == (-124, ZnsAction.STOP)
    assert (rig.sim.refreshes, rig.sim.refused_tokens) == (2, 2)  # one retry, no more


async def test_never_delivered_is_still_accepted(rig, client_for):
    rig.sim.set_rule(NEVER, "never_delivered")

    assert await client_for().send_zns(NEVER, "2001", PARAMS, "m")
    assert len(rig.sim.sent) == 1


async def test_a_chat_reply_goes_to_the_user(rig, client_for):
    message_id = await client_for().send_chat("u-7", "Hồ sơ 0101701234 đang ở bước Thẩm định")

    assert rig.sim.chat == [
        {
            "user_id": "u-7",
            "text": "Hồ sơ 0101701234 đang ở bước Thẩm định",
            "message_id": message_id,
        }
    ]


async def test_a_chat_reply_with_zalo_down_is_retried(rig, client_for):
    client = client_for()
    await client.send_chat("u-7", "first")
    await rig.sim.down()

    error = await refused(client.send_chat("u-7", "again"))

    assert error.action is ZnsAction.RETRY


async def test_a_chat_reply_with_an_invalid_token_is_refreshed_once(rig, client_for):
    client = client_for()
    await client.send_chat("u-7", "first")
    rig.sim.revoke()

    await client.send_chat("u-7", "second")

    assert [c["text"] for c in rig.sim.chat] == ["first", "second"]
    assert rig.sim.refreshes == 2


async def test_a_refusal_is_logged_with_the_number_masked(rig, client_for):
    rig.sim.set_rule(NO_ZALO, "no_zalo")
    with structlog.testing.capture_logs() as logs:
        await refused(client_for().send_zns(NO_ZALO, "2001", PARAMS, "m"))

    (line,) = [e for e in logs if e["event"] == "zalo_call_refused"]
    assert (line["code"], line["action"], line["to"]) == (-118, "fallback", "8490*****02")
    assert NO_ZALO not in repr(logs) and "Sở Công Thương" not in repr(logs)


async def test_a_success_without_a_msg_id_is_unanswered_not_sent_again(rig, client_for):
    """Zalo said Success in a shape we do not know: it has the notice, and a retry would
    send a paid copy; the notice waits for its receipt or its timer."""

    async def changed(_request: web.Request) -> web.Response:
        return json_response(200, {"error": 0, "message": "Success", "data": {"id": "x"}})

    async with LocalServer([web.post("/message/template", changed)]) as zalo:
        client = client_for(zns_url=f"http://127.0.0.1:{zalo.port}/message/template")

        error = await refused(client.send_zns(DELIVERED, "2001", PARAMS, "m"))

    assert error.action is ZnsAction.UNANSWERED


async def test_an_html_error_page_from_a_proxy_is_retried(rig, client_for):
    async def proxy(_request: web.Request) -> web.Response:
        return web.Response(status=502, text="<html>Bad Gateway</html>", content_type="text/html")

    async with LocalServer([web.post("/message/template", proxy)]) as zalo:
        client = client_for(zns_url=f"http://127.0.0.1:{zalo.port}/message/template")

        error = await refused(client.send_zns(DELIVERED, "2001", PARAMS, "m"))

    assert (error.code, error.action) == (502, ZnsAction.RETRY)


async def test_the_client_factory_opens_its_own_session_for_its_lifetime(rig):
    async with zalo_client(rig.settings()) as client:
        await client.send_zns(DELIVERED, "2001", PARAMS, "own-session")

        assert client.tokens.refreshes == 1
    assert [m.tracking_id for m in rig.sim.sent] == ["own-session"]
