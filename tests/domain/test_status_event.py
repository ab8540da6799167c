"""One builder and one encoding for every status payload."""

from __future__ import annotations

import json

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
