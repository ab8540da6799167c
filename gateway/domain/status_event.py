"""The status event published on `{prefix}/{agency}/status`: one shape, phone masked.

`status_event` is the one builder of the payload, and `encode` its one serialisation:
intake's rejections, the store's new, sent, settled and expired messages all go through
them, so a status looks the same whoever wrote it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from gateway.domain.states import MessageState
from gateway.phone.numbers import mask_phone

STATES = frozenset(s.value for s in MessageState)
_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# A state, given as text or as the enum, to its value: one look-up, which refuses others.
_STATE_VALUE = {s.value: s.value for s in MessageState}
# Built once: json.dumps would build an encoder with these options for every status.
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@lru_cache(maxsize=256)
def _local_time(at: float, tz: tzinfo) -> str:
    """`at` in `tz`, to the second. The statuses a transaction writes share its `now`,
    so a batch of a thousand formats it once."""
    return datetime.fromtimestamp(at, UTC).astimezone(tz).isoformat(timespec="seconds")


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
    link: str | None = None,
    channel: str | None = None,
) -> dict[str, Any]:
    """SPEC's status payload. `id` is the caller's job id, or `<event_id>:<kind>`;
    `link`, once the message went out, the SMSC link it went by (optional in the schema:
    left out rather than null, so validators written before it keep passing); `channel`,
    for a message, the channel of this state change (`sms`, `zalo`, `email`)."""
    value = _STATE_VALUE.get(state)
    if value is None:
        raise ValueError(f"unknown state {state!r}")
    event = {
        "id": ref,
        "event_id": event_id,
        "receipt_no": receipt_no,
        "kind": kind,
        "to": mask_phone(phone) if phone else None,
        "state": value,
        "reason": reason,
        "segments": segments,
        "at": _local_time(at, tz),
    }
    if link is not None:
        event["link"] = link
    if channel is not None:
        event["channel"] = str(channel)
    return event


def encode(event: Mapping[str, Any]) -> str:
    """A status as stored in the outbox and published: compact JSON, text as written."""
    return _ENCODE(event)


def status_payload(
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
    link: str | None = None,
    channel: str | None = None,
) -> str:
    """`status_event`, encoded: what the store writes into its status outbox."""
    return encode(
        status_event(
            ref=ref,
            event_id=event_id,
            receipt_no=receipt_no,
            kind=kind,
            phone=phone,
            state=state,
            reason=reason,
            segments=segments,
            at=at,
            link=link,
            channel=channel,
        )
    )


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
    return encode(event)
