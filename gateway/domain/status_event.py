"""The status event published on `{prefix}/{agency}/status`: one shape, phone masked."""

from __future__ import annotations

import json
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from gateway.phone.numbers import mask_phone

STATES = frozenset(
    {
        "queued",
        "rejected",
        "skipped",
        "submitted",
        "delivered",
        "undeliverable",
        "expired",
        "failed",
    }
)
_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def status_event(
    *,
    ref: str | None,
    event_id: str | None,
    receipt_no: str | None,
    kind: str | None,
    phone: str | None,
    state: str,
    reason: str | None,
    segments: int,
    at: float,
    tz: tzinfo = _TZ,
) -> dict[str, Any]:
    """SPEC's status payload. `id` is the caller's job id, or `<event_id>:<kind>`."""
    if state not in STATES:
        raise ValueError(f"unknown state {state!r}")
    return {
        "id": ref,
        "event_id": event_id,
        "receipt_no": receipt_no,
        "kind": kind,
        "to": mask_phone(phone) if phone else None,
        "state": state,
        "reason": reason,
        "segments": segments,
        "at": datetime.fromtimestamp(at, UTC).astimezone(tz).isoformat(timespec="seconds"),
    }


def localised(payload: str, tz: tzinfo) -> str:
    """`payload` (a status as stored) with `at` written in `tz`: the configured zone,
    whatever zone wrote the row. The instant is unchanged; only its offset is."""
    event = json.loads(payload)
    at = event.get("at")
    if not isinstance(at, str):
        return payload
    moved = datetime.fromisoformat(at).astimezone(tz).isoformat(timespec="seconds")
    if moved == at:
        return payload
    event["at"] = moved
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))
