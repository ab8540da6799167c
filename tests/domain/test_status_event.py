"""One builder and one encoding for every status payload."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import pytest

from gateway.domain.states import MessageState
from gateway.domain.status_event import encode, status_event, status_payload

FIELDS = dict(
    ref="j1", event_id=None, receipt_no="000.00.01.H42-261101-0001", kind="sms",
    phone="84905123456", reason=None, segments=1, at=1_780_000_000.0,
)  # fmt: skip


def test_a_stored_status_is_the_built_event_encoded_compactly():
    payload = status_payload(state=MessageState.DELIVERED, **FIELDS)
    assert payload == encode(status_event(state="delivered", **FIELDS))
    assert ", " not in payload and "\\u" not in payload
    assert json.loads(payload)["state"] == "delivered"


def test_a_status_carries_the_number_masked():
    assert json.loads(status_payload(state="queued", **FIELDS))["to"] == "8490*****56"


def test_a_status_of_an_unknown_state_is_refused():
    with pytest.raises(ValueError, match="unknown state 'sent'"):
        status_event(state="sent", **FIELDS)


def test_one_instant_is_written_in_each_zone_asked_for():
    hanoi = status_event(state="queued", **FIELDS)["at"]
    utc = status_event(state="queued", tz=ZoneInfo("UTC"), **FIELDS)["at"]
    assert (hanoi, utc) == ("2026-05-29T03:26:40+07:00", "2026-05-28T20:26:40+00:00")


def test_statuses_of_successive_seconds_carry_each_its_own_time():
    times = [
        json.loads(status_payload(state="queued", **{**FIELDS, "at": FIELDS["at"] + n}))["at"]
        for n in range(3)
    ]
    assert times == [f"2026-05-29T03:26:4{n}+07:00" for n in range(3)]
