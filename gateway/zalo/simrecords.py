"""What the Zalo simulator is configured with and what it keeps: its settings, the rules
per phone number, the ZNS messages it accepted."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from gateway.zalo.webhook import DELIVERED_EVENT, TEXT_EVENT

RULES = ("no_zalo", "never_delivered", "delay", "quota")


@dataclass(frozen=True, slots=True)
class ZaloSimConfig:
    """The simulated app and OA. `templates`: template id → approved; empty: any id is
    an approved template."""

    host: str = "127.0.0.1"
    port: int = 8092
    app_id: str = "motcua-sim-app"
    oa_id: str = "motcua-sim-oa"
    secret_key: str = "sim-secret-key"
    oa_secret_key: str = "sim-oa-secret-key"
    refresh_token: str = "sim-refresh-token-0"
    token_lifetime: float = 90000.0  # Zalo's: 25 hours
    webhook_url: str | None = None
    delivery_delay: float = 0.2
    templates: Mapping[str, bool] = field(default_factory=lambda: MappingProxyType({}))
    webhook_attempts: int = 5
    webhook_retry: float = 0.5
    response_delay: float = 0.0  # seconds each ZNS answer waits once the message is taken


@dataclass(frozen=True, slots=True)
class Rule:
    """What happens to ZNS sent to one phone number."""

    rule: str
    seconds: float = 0.0


@dataclass(slots=True)
class SentZns:
    """A ZNS message the simulator accepted."""

    msg_id: str
    phone: str
    template_id: str
    template_data: dict[str, Any]
    tracking_id: str | None
    delivered: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "msg_id": self.msg_id,
            "phone": self.phone,
            "template_id": self.template_id,
            "template_data": self.template_data,
            "tracking_id": self.tracking_id,
            "delivered": self.delivered,
        }


def phone_key(phone: str) -> str:
    """A rule's or a message's phone number as `84…` (the forms Zalo takes: 84…, 0…)."""
    digits = phone.strip().lstrip("+")
    return "84" + digits[1:] if digits.startswith("0") else digits


def user_id_of(phone: str) -> str:
    """The Zalo user id the simulator gives the owner of `phone` (stable, not the number)."""
    return "u" + hashlib.sha256(phone_key(phone).encode()).hexdigest()[:16]


def millis() -> str:
    """Now, as Zalo writes a webhook's timestamp: milliseconds since the epoch, as text."""
    return str(int(time.time() * 1000))


def receipt_event(
    config: ZaloSimConfig, recipient: str, msg_id: str, tracking_id: str | None
) -> dict[str, Any]:
    """The `user_received_message` webhook's body: the ZNS `msg_id` reached `recipient`."""
    at = millis()
    return {
        "app_id": config.app_id,
        "event_name": DELIVERED_EVENT,
        "sender": {"id": config.oa_id},
        "recipient": {"id": recipient},
        "message": {"msg_id": msg_id, "tracking_id": tracking_id, "delivery_time": at},
        "timestamp": at,
    }


def text_event(config: ZaloSimConfig, user_id: str, text: str, msg_id: str) -> dict[str, Any]:
    """The `user_send_text` webhook's body: `user_id` wrote `text` to the OA."""
    return {
        "app_id": config.app_id,
        "user_id_by_app": user_id,
        "event_name": TEXT_EVENT,
        "sender": {"id": user_id},
        "recipient": {"id": config.oa_id},
        "message": {"text": text, "msg_id": msg_id},
        "timestamp": millis(),
    }
