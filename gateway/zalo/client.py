"""The two Zalo API calls the gateway makes: a ZNS template message to a phone number, and
a consultation message (the reply to a lookup) to a user in the OA chat.

ZNS: `POST zns_url`, header `access_token`, JSON `{"phone", "template_id",
"template_data", "tracking_id"}`; Zalo answers `{"error": 0, "message": "Success", "data":
{"msg_id", "sent_time", "quota": {...}}}` or `{"error": <negative>, "message"}`. The OA
message API (`POST oa_message_url`, JSON `{"recipient": {"user_id"}, "message": {"text"}}`)
answers `{"error": 0, "data": {"message_id", "user_id"}}` the same way.

A request that could not connect is RETRY; one that went and got no answer is
UNANSWERED (Zalo may have taken it). Either call that Zalo answers "token invalid" is
tried once more after a refresh (the token may have been revoked before its time, or the
clock of the refresh was off); refused again, the error is STOP. Every failure is a
`ZnsError` whose `action` the core acts on (`gateway.zalo.errors`). Nothing here logs a
phone number, a text or a token.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import structlog

from gateway.phone.numbers import mask_phone
from gateway.settings.zalo import ZaloConfig
from gateway.zalo.errors import PHONE_INVALID, TOKEN_INVALID, ZnsAction, ZnsError, meaning
from gateway.zalo.tokens import TokenKeeper

log = structlog.get_logger("gateway.zalo.client")

# Failures before the request could go (no connection made): Zalo has nothing of it.
NOT_SENT = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)


def zalo_phone(phone: str) -> str:
    """Our international form (`+84912345678` or `84912345678`) as Zalo takes it:
    `84912345678`. The one place the conversion is made.

    Raises ValueError for anything else: numbers are normalised before they are queued,
    so a national `09…` form here is a bug upstream, not a guess to make.
    """
    digits = phone[1:] if phone.startswith("+") else phone
    if not (digits.isascii() and digits.isdigit() and digits.startswith("84") and len(digits) > 2):
        raise ValueError("not a phone number in international form (84…)")
    return digits


class ZaloClient:
    """Sends ZNS notices and chat replies with the keeper's access token."""

    def __init__(
        self, settings: ZaloConfig, tokens: TokenKeeper, session: aiohttp.ClientSession
    ) -> None:
        self._settings = settings
        self._tokens = tokens
        self._session = session

    @property
    def tokens(self) -> TokenKeeper:
        """The keeper of the access token (its `refreshes`, for health and metrics)."""
        return self._tokens

    async def send_zns(
        self, phone: str, template_id: str, params: Mapping[str, str], tracking_id: str
    ) -> str:
        """Send template `template_id` filled with `params` to `phone`, tagged with our
        `tracking_id` (the delivery webhook carries it back). Returns Zalo's msg_id.

        Raises ZnsError (its `action`: FALLBACK, RETRY or STOP); a phone number not in
        international form is Zalo's "phone number invalid" (FALLBACK), unsent.
        """
        try:
            international = zalo_phone(phone)
        except ValueError as exc:
            raise ZnsError(PHONE_INVALID, str(exc)) from None
        body = {
            "phone": international,
            "template_id": template_id,
            "template_data": dict(params),
            "tracking_id": tracking_id,
        }
        data = await self._call(self._settings.zns_url, body, what="zns", to=phone)
        msg_id = data.get("msg_id")
        if not isinstance(msg_id, str | int) or isinstance(msg_id, bool) or msg_id == "":
            # Zalo said Success: it has the notice, and trying again would send a second
            # paid copy. Like a request that got no answer: the notice waits for its
            # receipt (the tracking id carries it) or the fallback timer.
            log.warning("zalo_answer_without_msg_id", what="zns")
            raise ZnsError(0, "accepted without a msg_id", ZnsAction.UNANSWERED)
        return str(msg_id)

    async def send_chat(self, user_id: str, text: str) -> str:
        """Send `text` to `user_id` in the OA chat. Returns Zalo's message_id.

        Raises ZnsError like `send_zns`; "" when Zalo took it without giving an id.
        """
        body = {"recipient": {"user_id": user_id}, "message": {"text": text}}
        data = await self._call(self._settings.oa_message_url, body, what="chat", to=None)
        message_id = data.get("message_id")
        if not isinstance(message_id, str | int) or isinstance(message_id, bool):
            # Zalo took the reply: it is in the chat, only its id is unknown. Nothing here
            # is the gateway's access refused, so nothing is stopped.
            log.warning("zalo_answer_without_msg_id", what="chat")
            return ""
        return str(message_id)

    async def _call(
        self, url: str, body: dict[str, Any], *, what: str, to: str | None
    ) -> Mapping[str, Any]:
        """`body` posted to `url` with the access token; Zalo's `data` on success. A
        token-invalid answer: invalidate, refresh, once more."""
        token = await self._tokens.access_token()
        try:
            return await self._post(url, body, token)
        except ZnsError as exc:
            if exc.code not in TOKEN_INVALID:
                self._refused(exc, what, to)
                raise
            log.warning("zalo_token_invalid", call=what, code=exc.code)
            self._tokens.invalidate(token)
        token = await self._tokens.access_token()
        try:
            return await self._post(url, body, token)
        except ZnsError as exc:
            self._refused(exc, what, to)
            raise

    @staticmethod
    def _refused(exc: ZnsError, what: str, to: str | None) -> None:
        masked = None if to is None else mask_phone(to.lstrip("+"))
        log.warning(
            "zalo_call_refused", call=what, to=masked, code=exc.code, action=str(exc.action)
        )

    async def _post(self, url: str, body: dict[str, Any], token: str) -> Mapping[str, Any]:
        try:
            async with self._session.post(
                url,
                json=body,
                headers={"access_token": token},
                timeout=aiohttp.ClientTimeout(total=self._settings.timeout),
            ) as response:
                status = response.status
                raw = await response.read()
        except NOT_SENT as exc:
            raise ZnsError(0, f"no connection: {type(exc).__name__}") from None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            # Sent, unanswered: Zalo may have taken it (see errors.ZnsAction.UNANSWERED).
            raise ZnsError(0, f"no answer: {type(exc).__name__}", ZnsAction.UNANSWERED) from None
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise ZnsError(status if status >= 400 else 0, "answer not JSON")
        code = answer.get("error", 0 if status < 400 else status)
        if isinstance(code, bool) or not isinstance(code, int):
            raise ZnsError(status if status >= 400 else 0, "answer without an error code")
        if code != 0:
            raise ZnsError(code, _message(answer, code))
        if status >= 400:
            raise ZnsError(status, f"HTTP {status}")
        data = answer.get("data")
        # Success without `data` (or not an object): Zalo took the request all the same;
        # what the caller reads of `data` is then missing, and said so by the caller.
        return data if isinstance(data, dict) else {}


def _message(answer: Mapping[str, Any], code: int) -> str:
    """Zalo's message for the error, short, or the table's meaning."""
    message = answer.get("message")
    return message[:120] if isinstance(message, str) and message else meaning(code)


@asynccontextmanager
async def zalo_client(
    settings: ZaloConfig, *, clock: Callable[[], float] = time.monotonic
) -> AsyncIterator[ZaloClient]:
    """`async with zalo_client(config.zalo) as client:` a client with its own HTTP
    session and token keeper, for the daemon's lifetime; the session closes on exit."""
    async with aiohttp.ClientSession() as session:
        yield ZaloClient(settings, TokenKeeper(settings, session, clock), session)
