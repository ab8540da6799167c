"""HTTP control port of `motcua-sms zalo-sim`: what it received, and how it behaves.

Agencies and tests drive the simulator from a shell:

    curl -s 127.0.0.1:8093/stats
    curl -s 127.0.0.1:8093/zns                  # ZNS accepted, with tracking ids
    curl -s 127.0.0.1:8093/chat                 # replies sent in the OA chat
    curl -s 127.0.0.1:8093/webhooks             # webhooks posted and their answers
    curl -s 127.0.0.1:8093/refresh_token        # the refresh token that works now
    curl -s -XPOST 127.0.0.1:8093/rules -d '{"phone":"84905123456","rule":"no_zalo"}'
    curl -s -XPOST 127.0.0.1:8093/rules -d '{"phone":"84905123457","rule":"delay","seconds":30}'
    curl -s -XPOST 127.0.0.1:8093/rules/clear
    curl -s -XPOST 127.0.0.1:8093/user_text -d '{"user_id":"u1","text":"MCKH 0101701234"}'
    curl -s -XPOST 127.0.0.1:8093/token_lifetime -d '{"seconds":5}'
    curl -s -XPOST 127.0.0.1:8093/revoke        # every access token invalid (-124)
    curl -s -XPOST 127.0.0.1:8093/revoke -d '{"for_good":true}'   # ... until /restore
    curl -s -XPOST 127.0.0.1:8093/templates -d '{"template_id":"2001","approved":false}'
    curl -s -XPOST 127.0.0.1:8093/down -d '{"seconds":60}'                # 503
    curl -s -XPOST 127.0.0.1:8093/down -d '{"seconds":60,"refuse":true}'  # unreachable
    curl -s -XPOST 127.0.0.1:8093/up

JSON on aiohttp (gateway.web), loopback: a test tool, not an API to expose.
"""

from __future__ import annotations

import json
import math
from typing import Any

from aiohttp import web

from gateway.web import LocalServer, json_response, read_body
from gateway.zalo.sim import ZaloSimulator
from gateway.zalo.simrecords import RULES


class _BadRequest(Exception):
    pass


def _number(body: dict[str, Any], key: str, *, required: bool = True) -> float | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _BadRequest(f"{key}: a number of seconds expected")
    if not math.isfinite(value) or value < 0:
        raise _BadRequest(f"{key}: a number of seconds, 0 or more, expected")
    return float(value)


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise _BadRequest(f"{key}: required string")
    return value


class ZaloSimControl:
    """`async with ZaloSimControl(sim, host, port) as ctl:`; `ctl.port` is the bound port."""

    def __init__(self, sim: ZaloSimulator, host: str = "127.0.0.1", port: int = 0) -> None:
        self._sim = sim
        self._http = LocalServer(
            [
                web.get("/stats", self._stats),
                web.get("/zns", self._zns),
                web.get("/chat", self._chat),
                web.get("/webhooks", self._webhooks),
                web.get("/refresh_token", self._refresh_token),
                web.post("/rules", self._rules),
                web.post("/rules/clear", self._clear),
                web.post("/user_text", self._user_text),
                web.post("/token_lifetime", self._lifetime),
                web.post("/revoke", self._revoke),
                web.post("/restore", self._restore),
                web.post("/templates", self._templates),
                web.post("/down", self._down),
                web.post("/up", self._up),
            ],
            host,
            port,
        )
        self.port = 0

    async def __aenter__(self) -> ZaloSimControl:
        await self._http.__aenter__()
        self.port = self._http.port
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.__aexit__(*exc)

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any]:
        try:
            body: Any = json.loads(await read_body(request) or b"{}")
        except ValueError as exc:
            raise _BadRequest(f"body: not JSON ({exc})") from None
        if not isinstance(body, dict):
            raise _BadRequest("body: a JSON object expected")
        return body

    async def _stats(self, _request: web.Request) -> web.Response:
        return json_response(200, self._sim.stats())

    async def _zns(self, _request: web.Request) -> web.Response:
        return json_response(200, [m.as_dict() for m in self._sim.sent])

    async def _chat(self, _request: web.Request) -> web.Response:
        return json_response(200, self._sim.chat)

    async def _webhooks(self, _request: web.Request) -> web.Response:
        return json_response(200, self._sim.webhooks)

    async def _refresh_token(self, _request: web.Request) -> web.Response:
        return json_response(200, {"refresh_token": self._sim.refresh_token})

    async def _rules(self, request: web.Request) -> web.Response:
        try:
            body = await self._body(request)
            phone, rule = _text(body, "phone"), _text(body, "rule")
            if rule not in RULES:
                raise _BadRequest(f"rule: one of {', '.join(RULES)}")
            seconds = _number(body, "seconds", required=rule == "delay") or 0.0
        except _BadRequest as exc:
            return json_response(400, {"error": str(exc)})
        self._sim.set_rule(phone, rule, seconds)
        return json_response(200, {"rules": len(self._sim.rules)})

    async def _clear(self, _request: web.Request) -> web.Response:
        self._sim.rules.clear()
        return json_response(200, {"rules": 0})

    async def _user_text(self, request: web.Request) -> web.Response:
        try:
            body = await self._body(request)
            user_id, text = _text(body, "user_id"), _text(body, "text")
        except _BadRequest as exc:
            return json_response(400, {"error": str(exc)})
        if self._sim.config.webhook_url is None:
            return json_response(409, {"error": "no webhook_url to post to (--webhook-url)"})
        return json_response(200, await self._sim.user_sends_text(user_id, text))

    async def _lifetime(self, request: web.Request) -> web.Response:
        try:
            seconds = _number(await self._body(request), "seconds")
        except _BadRequest as exc:
            return json_response(400, {"error": str(exc)})
        assert seconds is not None
        self._sim.token_lifetime = seconds
        return json_response(200, {"token_lifetime": seconds})

    async def _revoke(self, request: web.Request) -> web.Response:
        try:
            for_good = (await self._body(request)).get("for_good", False)
            if not isinstance(for_good, bool):
                raise _BadRequest("for_good: true or false expected")
        except _BadRequest as exc:
            return json_response(400, {"error": str(exc)})
        self._sim.revoke(for_good=for_good)
        return json_response(200, {"revoked": True, "for_good": for_good})

    async def _restore(self, _request: web.Request) -> web.Response:
        self._sim.restore()
        return json_response(200, {"revoked": False})

    async def _templates(self, request: web.Request) -> web.Response:
        try:
            body = await self._body(request)
            template_id = _text(body, "template_id")
            approved = body.get("approved", True)
            if not isinstance(approved, bool):
                raise _BadRequest("approved: true or false expected")
        except _BadRequest as exc:
            return json_response(400, {"error": str(exc)})
        self._sim.templates[template_id] = approved
        return json_response(200, {"templates": self._sim.templates})

    async def _down(self, request: web.Request) -> web.Response:
        try:
            body = await self._body(request)
            seconds = _number(body, "seconds", required=False)
            refuse = body.get("refuse", False)
            if not isinstance(refuse, bool):
                raise _BadRequest("refuse: true or false expected")
        except _BadRequest as exc:
            return json_response(400, {"error": str(exc)})
        await self._sim.down(seconds, refuse=refuse)
        return json_response(200, {"down": True, "seconds": seconds, "refuse": refuse})

    async def _up(self, _request: web.Request) -> web.Response:
        await self._sim.up()
        return json_response(200, {"down": False})
