"""The bundled Zalo simulator: ZNS, OAuth refresh, the OA message API, signed webhooks.

Built on the public API's shapes (see `gateway.zalo.client`, `tokens` and `webhook`) and
its error codes (`gateway.zalo.errors`, so the two never disagree), for agencies testing
their set-up and for the gateway's own tests and demo, as `gateway.smpp.sim` is for SMPP.
The gateway reaches it by pointing `zalo.oauth_url`, `zns_url` and `oa_message_url` at
`http://127.0.0.1:<port>` + `OAUTH_PATH`, `ZNS_PATH`, `OA_MESSAGE_PATH`.

What it does:
- OAuth: each refresh token works once; the answer's new one replaces it and the old one
  is refused afterwards with Zalo's error shape. Access tokens live `token_lifetime`
  seconds (settable short, to see refreshes) unless revoked.
- ZNS: registered templates (all template ids approved when none are registered), the
  real success shape, and Zalo's codes for a bad token, an unknown or unapproved template,
  a bad phone number, and the per-phone rules: `no_zalo` (not a Zalo user), `quota`
  (out of quota), `never_delivered` (accepted, no delivery webhook), `delay` (the
  delivery webhook `seconds` later).
- `down`: the API answers 503 for `seconds` (or until `up()`); with `refuse`, it stops
  listening instead, so connections are refused (Zalo unreachable), then listens again
  on the same port.
- Webhooks, signed like Zalo's, to `webhook_url`: `user_received_message` for each
  accepted message after its delay, `user_send_text` when told a user wrote something.
  An answer other than 200 is retried a few times, as Zalo does.
- The OA message API records chat replies.
The control API (`gateway.zalo.simctl`) reads and drives all of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
import time
from typing import Any

import aiohttp
import structlog
from aiohttp import web

from gateway.web import LocalServer, json_response, read_body
from gateway.zalo import errors, simrecords
from gateway.zalo.simrecords import RULES, Rule, SentZns, ZaloSimConfig, phone_key, user_id_of
from gateway.zalo.webhook import SIGNATURE_HEADER, signature

log = structlog.get_logger("gateway.zalo.sim")

OAUTH_PATH = "/v4/oa/access_token"
ZNS_PATH = "/message/template"
OA_MESSAGE_PATH = "/v3.0/oa/message/cs"


class ZaloSimulator:
    """`async with ZaloSimulator(config) as sim:`; `sim.port` is the API's bound port."""

    def __init__(self, config: ZaloSimConfig) -> None:
        self.config = config
        self.rules: dict[str, Rule] = {}
        self.templates: dict[str, bool] = dict(config.templates)
        self.token_lifetime = config.token_lifetime
        self.sent: list[SentZns] = []
        self.chat: list[dict[str, str]] = []
        self.webhooks: list[dict[str, Any]] = []
        self.refreshes = 0
        self.refused_refreshes = 0
        self.refused_tokens = 0
        self.tokens_revoked = False
        self.response_delay = config.response_delay
        self.down_answers = 0  # API requests answered 503 while down
        self.in_flight = 0  # ZNS requests being answered now
        self.max_in_flight = 0
        self._refresh_token = config.refresh_token
        self._access: dict[str, float] = {}  # token → monotonic expiry
        self._down_until: float | None = None
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._http = self._server(config.port)
        self._unplugged = False
        self.port = 0

    def _server(self, port: int) -> LocalServer:
        return LocalServer(
            [
                web.post(OAUTH_PATH, self._oauth),
                web.post(ZNS_PATH, self._zns),
                web.post(OA_MESSAGE_PATH, self._oa_message),
            ],
            self.config.host,
            port,
        )

    async def __aenter__(self) -> ZaloSimulator:
        self._session = aiohttp.ClientSession()
        try:
            await self._http.__aenter__()
        except BaseException:
            await self._session.close()
            raise
        self.port = self._http.port
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if not self._unplugged:
            await self._http.__aexit__(*exc)
        if self._session is not None:
            await self._session.close()

    @property
    def base_url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    @property
    def refresh_token(self) -> str:
        """The one refresh token that works now (an operator's first one, for the file)."""
        return self._refresh_token

    # ------------------------------------------------------------------ control

    def set_rule(self, phone: str, rule: str, seconds: float = 0.0) -> None:
        if rule not in RULES:
            raise ValueError(f"unknown rule {rule!r}; one of {', '.join(RULES)}")
        self.rules[phone_key(phone)] = Rule(rule, seconds)

    async def down(self, seconds: float | None = None, *, refuse: bool = False) -> None:
        """Answer 503 for `seconds` (None: until `up()`); `refuse`: refuse connections."""
        if not refuse:
            self._down_until = float("inf") if seconds is None else time.monotonic() + seconds
            return
        if not self._unplugged:
            self._unplugged = True
            await self._http.__aexit__(None, None, None)
        if seconds is not None:
            self._spawn(self._up_after(seconds))

    async def up(self) -> None:
        """Answer again (and listen again, on the same port, if connections were refused)."""
        self._down_until = None
        if self._unplugged:
            self._http = self._server(self.port)
            await self._http.__aenter__()
            self._unplugged = False

    async def _up_after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        await self.up()

    def _answers_down(self) -> bool:
        """Down: this API request is answered 503, and counted."""
        self.down_answers += self.is_down
        return self.is_down

    @property
    def is_down(self) -> bool:
        if self._unplugged:
            return True
        return self._down_until is not None and time.monotonic() < self._down_until

    def revoke(self, *, for_good: bool = False) -> None:
        """Every access token issued so far becomes invalid (Zalo revoked them); `for_good`:
        every one issued later too (the OA unlinked the app), until `restore()`."""
        self._access.clear()
        self.tokens_revoked = for_good

    def restore(self) -> None:
        self.tokens_revoked = False

    async def user_sends_text(self, user_id: str, text: str) -> dict[str, Any]:
        """Play a citizen writing `text` to the OA: the signed `user_send_text` webhook,
        posted now; returns its msg_id and the webhook's final HTTP status (None: no
        answer, or no webhook_url)."""
        msg_id = f"sim-text-{next(self._ids)}"
        event = simrecords.text_event(self.config, user_id, text, msg_id)
        return {"msg_id": msg_id, "status": await self._post_webhook(event)}

    def stats(self) -> dict[str, Any]:
        return {
            "refreshes": self.refreshes,
            "refused_refreshes": self.refused_refreshes,
            "refused_tokens": self.refused_tokens,
            "zns_sent": len(self.sent),
            "zns_delivered": sum(1 for m in self.sent if m.delivered),
            "chat_replies": len(self.chat),
            "webhooks": len(self.webhooks),
            "down": self.is_down,
            "down_answers": self.down_answers,
            "max_in_flight": self.max_in_flight,
        }

    # ------------------------------------------------------------------ the Zalo API

    async def _oauth(self, request: web.Request) -> web.Response:
        if self._answers_down():
            return json_response(503, {"error": "service unavailable"})
        form = await request.post()
        if form.get("app_id") != self.config.app_id:
            return self._refuse_refresh(-14002, "Invalid app id")
        if request.headers.get("secret_key") != self.config.secret_key:
            return self._refuse_refresh(-14003, "Invalid secret key")
        if form.get("grant_type") != "refresh_token":
            return self._refuse_refresh(-14001, "Invalid grant type")
        if form.get("refresh_token") != self._refresh_token:
            return self._refuse_refresh(errors.REFRESH_TOKEN_INVALID, "Invalid refresh token")
        access = "sim-access-" + secrets.token_urlsafe(18)
        self._refresh_token = "sim-refresh-" + secrets.token_urlsafe(18)
        self._access[access] = time.monotonic() + self.token_lifetime
        self.refreshes += 1
        return json_response(
            200,
            {
                "access_token": access,
                "refresh_token": self._refresh_token,
                "expires_in": str(int(self.token_lifetime)),
            },
        )

    def _refuse_refresh(self, code: int, name: str) -> web.Response:
        self.refused_refreshes += 1
        return json_response(
            200, {"error": code, "error_name": name, "error_description": name.lower()}
        )

    def _token_ok(self, request: web.Request) -> bool:
        expiry = self._access.get(request.headers.get("access_token", ""))
        if expiry is None or time.monotonic() >= expiry or self.tokens_revoked:
            self.refused_tokens += 1
            return False
        return True

    async def _json(self, request: web.Request) -> dict[str, Any] | None:
        try:
            body = json.loads(await read_body(request))
        except (ValueError, UnicodeDecodeError):
            return None
        return body if isinstance(body, dict) else None

    async def _zns(self, request: web.Request) -> web.Response:
        if self._answers_down():
            return json_response(503, {"error": "service unavailable"})
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:  # taken at once, answered late: a client that gave up may not know it was
            answer = await self._zns_answer(request)
            await asyncio.sleep(self.response_delay)
            return answer
        finally:
            self.in_flight -= 1

    async def _zns_answer(self, request: web.Request) -> web.Response:
        if not self._token_ok(request):
            return _zalo_error(errors.ACCESS_TOKEN_INVALID, "Access token invalid")
        body = await self._json(request)
        if body is None:
            return _zalo_error(-121, "Body data empty")
        phone = body.get("phone")
        template_id = body.get("template_id")
        data = body.get("template_data")
        tracking = body.get("tracking_id")
        if not isinstance(phone, str) or not phone_key(phone).isdigit():
            return _zalo_error(errors.PHONE_INVALID, "Phone number invalid")
        if not isinstance(template_id, str | int) or (
            self.templates and str(template_id) not in self.templates
        ):
            return _zalo_error(errors.TEMPLATE_ID_INVALID, "Template ID invalid")
        if self.templates and not self.templates[str(template_id)]:
            return _zalo_error(
                errors.TEMPLATE_NOT_PERMITTED,
                "OA or App does not have permission to access this template",
            )
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            return _zalo_error(errors.TEMPLATE_DATA_INVALID, "Template data invalid")
        key = phone_key(phone)
        rule = self.rules.get(key)
        if rule is not None and rule.rule == "no_zalo":
            return _zalo_error(errors.NO_ZALO_ACCOUNT, "Zalo account not existed")
        if rule is not None and rule.rule == "quota":
            return _zalo_error(errors.OUT_OF_QUOTA, "Out of quota")
        message = SentZns(
            msg_id=secrets.token_hex(12),
            phone=key,
            template_id=str(template_id),
            template_data=dict(data),
            tracking_id=tracking if isinstance(tracking, str) and tracking else None,
        )
        self.sent.append(message)
        if rule is None or rule.rule != "never_delivered":
            delay = rule.seconds if rule is not None and rule.rule == "delay" else None
            self._spawn(
                self._deliver(message, self.config.delivery_delay if delay is None else delay)
            )
        sent_time, n = simrecords.millis(), len(self.sent)
        return json_response(
            200,
            {
                "error": 0,
                "message": "Success",
                "data": {
                    "msg_id": message.msg_id,
                    "sent_time": sent_time,
                    "quota": {"dailyQuota": "500", "remainingQuota": str(max(0, 500 - n))},
                },
            },
        )

    async def _oa_message(self, request: web.Request) -> web.Response:
        if self._answers_down():
            return json_response(503, {"error": "service unavailable"})
        if not self._token_ok(request):
            return _zalo_error(-216, "Access token is invalid")
        body = await self._json(request)
        recipient = body.get("recipient") if body else None
        message = body.get("message") if body else None
        user_id = recipient.get("user_id") if isinstance(recipient, dict) else None
        text = message.get("text") if isinstance(message, dict) else None
        if not isinstance(user_id, str) or not isinstance(text, str) or not text:
            return _zalo_error(-121, "Body data empty")
        message_id = secrets.token_hex(12)
        self.chat.append({"user_id": user_id, "text": text, "message_id": message_id})
        return json_response(
            200,
            {
                "error": 0,
                "message": "Success",
                "data": {"message_id": message_id, "user_id": user_id},
            },
        )

    # ------------------------------------------------------------------ webhooks

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def post_receipt(self, msg_id: str, tracking_id: str | None) -> int | None:
        """A signed delivery webhook for any ids, as Zalo would post it (one the gateway
        never made, one without a tracking id): the answer's status."""
        return await self._post_webhook(
            simrecords.receipt_event(self.config, "0", msg_id, tracking_id)
        )

    async def _deliver(self, message: SentZns, delay: float) -> None:
        await asyncio.sleep(delay)
        event = simrecords.receipt_event(
            self.config, user_id_of(message.phone), message.msg_id, message.tracking_id
        )
        message.delivered = True
        await self._post_webhook(event)

    async def _post_webhook(self, event: dict[str, Any]) -> int | None:
        """POST `event`, signed, until it is answered 200 (at most `webhook_attempts`)."""
        url = self.config.webhook_url
        if url is None or self._session is None:
            return None
        body = json.dumps(event, ensure_ascii=False).encode()
        mac = signature(body, self.config.app_id, self.config.oa_secret_key, event["timestamp"])
        headers = {SIGNATURE_HEADER: f"mac={mac}", "Content-Type": "application/json"}
        status: int | None = None
        for attempt in range(1, self.config.webhook_attempts + 1):
            try:
                async with self._session.post(
                    url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=5)
                ) as response:
                    status = response.status
            except (aiohttp.ClientError, TimeoutError, OSError):
                status = None
            self.webhooks.append(
                {
                    "event_name": event["event_name"],
                    "msg_id": event["message"]["msg_id"],
                    "attempt": attempt,
                    "status": status,
                }
            )
            if status == 200:
                return status
            await asyncio.sleep(self.config.webhook_retry)
        log.warning("zalo_sim_webhook_gave_up", event_name=event["event_name"], status=status)
        return status


def _zalo_error(code: int, message: str) -> web.Response:
    """Zalo's error shape: HTTP 200, the code in the body."""
    return json_response(200, {"error": code, "message": message})
