"""Zalo's webhooks, pure: is this one Zalo's (its signature), and what does it say.

Signature (Zalo for Developers, OA webhook "xác thực"; as explained in
hainh.me/zalo-api-php-webhook-callback-official-account.html and done by the
integrations in the public repositories searched): the header
`X-ZEvent-Signature: mac=<hex>` where hex is
`sha256(app_id + raw body + timestamp + oa_secret_key)`, the timestamp being the body's
own `timestamp` field (milliseconds, as text) and the secret the OA's secret key, not
the app's. It is a plain hash, not an HMAC: the secret is part of the hashed text. It is
compared in constant time.

Events the gateway reads:
- `user_received_message` with `message.delivery_time`: a ZNS notice reached the user's
  device; `message.msg_id` is Zalo's id and `message.tracking_id` ours, when we gave one.
  Without `delivery_time` it is the receipt of an OA chat message: not a notice's.
- `user_send_text`: a user wrote `message.text` to the OA; `sender.id` is the user, to
  whom the reply goes back.
Any other event name is `Ignored`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

SIGNATURE_HEADER = "X-ZEvent-Signature"
DELIVERED_EVENT = "user_received_message"
TEXT_EVENT = "user_send_text"


class WebhookError(ValueError):
    """A webhook body that cannot be read: `reason` says why, briefly (for the log)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Delivered:
    """A ZNS notice was delivered to the user's device at `at`."""

    msg_id: str
    tracking_id: str | None
    at: datetime
    timestamp_ms: int


@dataclass(frozen=True, slots=True)
class UserText:
    """User `user_id` wrote `text` in the OA chat."""

    user_id: str
    msg_id: str
    text: str
    at: datetime
    timestamp_ms: int


@dataclass(frozen=True, slots=True)
class Ignored:
    """An event the gateway has no use for."""

    event_name: str
    timestamp_ms: int


Event = Delivered | UserText | Ignored


def signature(body: bytes, app_id: str, oa_secret_key: str, timestamp: str) -> str:
    """The hex MAC Zalo sends for `body` (what the simulator signs with, too)."""
    signed = app_id.encode() + body + timestamp.encode() + oa_secret_key.encode()
    return hashlib.sha256(signed).hexdigest()


def verify(body: bytes, headers: Mapping[str, str], app_id: str, oa_secret_key: str) -> bool:
    """Whether `body` carries Zalo's signature for this app and OA secret.

    False for a missing or malformed header and for a body without a timestamp: a body
    that cannot be checked is not believed.
    """
    header = _header(headers, SIGNATURE_HEADER)
    if header is None:
        return False
    given = header.strip()
    if given[:4].lower() == "mac=":
        given = given[4:].strip()
    try:
        timestamp = _timestamp_text(json.loads(body))
    except (ValueError, RecursionError, WebhookError):
        return False
    expected = signature(body, app_id, oa_secret_key, timestamp)
    return hmac.compare_digest(given.lower().encode(), expected.encode())


def parse(body: bytes) -> Event:
    """What the webhook says. Raises WebhookError for malformed JSON or missing fields."""
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise WebhookError("body is not JSON") from None
    if not isinstance(event, dict):
        raise WebhookError("body is not a JSON object")
    name = event.get("event_name")
    if not isinstance(name, str) or not name:
        raise WebhookError("event_name missing")
    millis = int(_timestamp_text(event))
    if name == DELIVERED_EVENT:
        message = _object(event, "message")
        if "delivery_time" not in message:
            return Ignored(name, millis)
        tracking = message.get("tracking_id")
        if tracking is not None and not isinstance(tracking, str):
            raise WebhookError("message.tracking_id is not text")
        delivered = _millis(message.get("delivery_time"), "message.delivery_time")
        return Delivered(
            msg_id=_text(message, "msg_id", "message.msg_id"),
            tracking_id=tracking or None,
            at=_moment(delivered),
            timestamp_ms=millis,
        )
    if name == TEXT_EVENT:
        message = _object(event, "message")
        sender = _object(event, "sender")
        return UserText(
            user_id=_text(sender, "id", "sender.id"),
            msg_id=_text(message, "msg_id", "message.msg_id"),
            text=_text(message, "text", "message.text", empty=True),
            at=_moment(millis),
            timestamp_ms=millis,
        )
    return Ignored(name, millis)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:  # a plain dict in a test, or a proxy that changed the case
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value


def _timestamp_text(event: Any) -> str:
    """The body's `timestamp` as Zalo wrote it (text of milliseconds; a number taken)."""
    if not isinstance(event, dict) or "timestamp" not in event:
        raise WebhookError("timestamp missing")
    value = event["timestamp"]
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise WebhookError("timestamp is not milliseconds")
    written = str(value)
    if not written.isascii() or not written.isdigit():
        raise WebhookError("timestamp is not milliseconds")
    return written


def _millis(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise WebhookError(f"{key} is not milliseconds")
    written = str(value)
    if not written.isascii() or not written.isdigit():
        raise WebhookError(f"{key} is not milliseconds")
    return int(written)


def _moment(millis: int) -> datetime:
    try:
        return datetime.fromtimestamp(millis / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise WebhookError("time out of range") from None


def _object(event: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = event.get(key)
    if not isinstance(value, dict):
        raise WebhookError(f"{key} missing")
    return value


def _text(section: Mapping[str, Any], key: str, name: str, *, empty: bool = False) -> str:
    value = section.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # ids Zalo writes as numbers
    if not isinstance(value, str) or (not empty and not value):
        raise WebhookError(f"{name} missing")
    return value
