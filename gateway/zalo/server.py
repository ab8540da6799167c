"""The webhook endpoint Zalo posts to: verified, de-duplicated, answered only once done.

Answers:
- 400: the body is not JSON, or a field the event needs is missing (nothing is believed);
- 401: the signature is missing or wrong;
- 409: a replay by timestamp, older than `max_age` or ahead of our clock by more than
  `MAX_SKEW` (refused; a retry of it would be refused the same way); also the same event
  arriving while it is still being handled (Zalo's retry finds it handled);
- 200 `{"ignored": "duplicate"}`: an event (name and msg_id) already handled within
  `max_age`, so Zalo stops resending it and the store is not told twice;
- 200 `{"ignored": <event>}`: an event the gateway has no use for (logged at debug);
- 200 `{"ok": true}`: only after the callback returned (it commits to the store);
- 500: the callback raised; Zalo sends the webhook again, and it is not marked handled.
  A delivery report whose resends all come after `max_age` is refused with them; the
  notice's fallback timer then sends the SMS, so nobody is left without a notice.

The ids handled are remembered for `max_age` (older webhooks are refused by their
timestamp anyway), and at most `MAX_REMEMBERED` of them. Log lines carry the reason of a
refusal, never the body, a user's text, a token or a full phone number.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from gateway.settings.zalo import WebhookConfig
from gateway.web import LocalServer, json_response, listening, read_body
from gateway.zalo.webhook import (
    Delivered,
    Event,
    Ignored,
    UserText,
    WebhookError,
    parse,
    verify,
)

log = structlog.get_logger("gateway.zalo.server")

# A webhook stamped this far ahead of our clock is refused as a replay (clocks drift a
# little; a day-ahead timestamp is a forged or replayed one).
MAX_SKEW = 30.0
# Handled event ids remembered at most (the oldest are forgotten first).
MAX_REMEMBERED = 100_000

OnDelivered = Callable[[Delivered], Awaitable[None]]
OnText = Callable[[UserText], Awaitable[None]]


class _Seen:
    """Event keys handled within `max_age` seconds, oldest first, bounded."""

    def __init__(self, max_age: float, limit: int) -> None:
        self._max_age = max_age
        self._limit = limit
        self._keys: OrderedDict[tuple[str, str], float] = OrderedDict()

    def __contains__(self, key: tuple[str, str]) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: tuple[str, str], now: float) -> None:
        self._keys[key] = now
        self._keys.move_to_end(key)
        self.forget(now)

    def forget(self, now: float) -> None:
        while self._keys:
            key, at = next(iter(self._keys.items()))
            if at > now - self._max_age and len(self._keys) <= self._limit:
                break
            del self._keys[key]


class ZaloWebhooks:
    """`async with ZaloWebhooks(settings.webhook, app_id, oa_secret_key, on_delivered,
    on_text) as hooks:` listens on `settings.host:settings.port` at `settings.path`;
    `hooks.port` is the bound port (for a port of 0 in tests).

    `clock` is wall-clock seconds (`time.time`): webhook timestamps are Zalo's wall clock.
    """

    def __init__(
        self,
        settings: WebhookConfig,
        app_id: str,
        oa_secret_key: str,
        on_delivered: OnDelivered,
        on_text: OnText,
        *,
        clock: Callable[[], float] = time.time,
        max_remembered: int = MAX_REMEMBERED,
    ) -> None:
        self._settings = settings
        self._app_id = app_id
        self._secret = oa_secret_key
        self._on_delivered = on_delivered
        self._on_text = on_text
        self._clock = clock
        self._seen = _Seen(settings.max_age, max_remembered)
        self._handling: set[tuple[str, str]] = set()
        self._http = LocalServer(
            [web.post(settings.path, self._webhook)],
            settings.host,
            settings.port,
            not_found=f"the webhook is POST {settings.path}",
        )
        self.port = 0

    @property
    def remembered(self) -> int:
        """Event ids held for de-duplication now (bounded)."""
        return len(self._seen)

    async def __aenter__(self) -> ZaloWebhooks:
        """Listen; a port another service holds is ListenRefused (a start-up refusal)."""
        host, port = self._settings.host, self._settings.port
        await listening(self._http, "Zalo webhook endpoint", "zalo.webhook.port", host, port)
        self.port = self._http.port
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.__aexit__(*exc)

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await read_body(request)
        try:
            json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            # RecursionError: nested deeper than the decoder goes ("[[[[…"), unsigned junk.
            return self._refuse(400, "body is not JSON")
        # Checked before any field is read: nothing in an unsigned body is believed.
        if not verify(body, request.headers, self._app_id, self._secret):
            return self._refuse(401, "signature missing or wrong")
        try:
            event = parse(body)
        except WebhookError as exc:
            return self._refuse(400, exc.reason)
        return await self._handle(event)

    async def _handle(self, event: Event) -> web.Response:
        now = self._clock()
        age = now - event.timestamp_ms / 1000
        if age > self._settings.max_age:
            return self._refuse(409, "replay: timestamp older than max_age", age=int(age))
        if age < -MAX_SKEW:
            return self._refuse(409, "replay: timestamp in the future", age=int(age))
        if isinstance(event, Ignored):
            log.debug("zalo_webhook_ignored", event_name=event.event_name[:40])
            return json_response(200, {"ignored": event.event_name})
        key = (type(event).__name__, event.msg_id)
        if key in self._seen:
            log.info("zalo_webhook_duplicate", kind=key[0])
            return json_response(200, {"ignored": "duplicate"})
        if key in self._handling:
            # The same event twice at once: the second is refused until the first is done.
            return self._refuse(409, "duplicate: the same event is being handled")
        self._handling.add(key)
        try:
            if isinstance(event, Delivered):
                await self._on_delivered(event)
            else:
                await self._on_text(event)
        except Exception as exc:
            # The error's type only: its text may carry what the callback was given.
            log.error("zalo_webhook_failed", kind=key[0], error=type(exc).__name__)
            return json_response(500, {"error": "not handled; send it again"})
        finally:
            self._handling.discard(key)
        self._seen.add(key, self._clock())
        return json_response(200, {"ok": True})

    @staticmethod
    def _refuse(status: int, reason: str, **detail: int) -> web.Response:
        log.warning("zalo_webhook_refused", status=status, reason=reason, **detail)
        return json_response(status, {"error": reason})
