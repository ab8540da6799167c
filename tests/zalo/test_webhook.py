"""Webhook signatures and events, pure: what is believed and what is refused, and why."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from gateway.zalo.webhook import (
    Delivered,
    Ignored,
    UserText,
    WebhookError,
    parse,
    signature,
    verify,
)

APP_ID, SECRET = "4143000000000000001", "oa-secret"
TS = "1764590000000"


def delivered(**message: object) -> dict[str, object]:
    return {
        "app_id": APP_ID,
        "event_name": "user_received_message",
        "sender": {"id": "oa-1"},
        "recipient": {"id": "u-1"},
        "message": {
            "msg_id": "zalo-msg-1",
            "tracking_id": "our-id-1",
            "delivery_time": TS,
            **message,
        },
        "timestamp": TS,
    }


def text_event(**message: object) -> dict[str, object]:
    return {
        "app_id": APP_ID,
        "event_name": "user_send_text",
        "sender": {"id": "u-7"},
        "recipient": {"id": "oa-1"},
        "message": {"msg_id": "m-7", "text": "MCKH 0101701234", **message},
        "timestamp": TS,
    }


def signed(event: dict[str, object]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event).encode()
    return body, {"X-ZEvent-Signature": "mac=" + signature(body, APP_ID, SECRET, TS)}


def test_the_signature_is_sha256_of_app_id_body_timestamp_and_oa_secret():
    import hashlib

    body = b'{"timestamp":"1"}'

    assert signature(body, "a", "s", "1") == hashlib.sha256(b"a" + body + b"1s").hexdigest()


def test_a_signed_webhook_is_verified():
    body, headers = signed(delivered())

    assert verify(body, headers, APP_ID, SECRET)


def test_the_header_name_is_matched_whatever_its_case():
    body, headers = signed(delivered())

    assert verify(body, {"x-zevent-signature": headers["X-ZEvent-Signature"]}, APP_ID, SECRET)


def test_a_wrong_signature_is_refused():
    body, _ = signed(delivered())

    assert not verify(body, {"X-ZEvent-Signature": "mac=" + "0" * 64}, APP_ID, SECRET)


def test_a_body_changed_after_signing_is_refused():
    body, headers = signed(delivered())

    assert not verify(body.replace(b"our-id-1", b"our-id-2"), headers, APP_ID, SECRET)


def test_a_signature_made_with_another_secret_is_refused():
    body, headers = signed(delivered())

    assert not verify(body, headers, APP_ID, "another-secret")


def test_a_missing_signature_header_is_refused():
    body, _ = signed(delivered())

    assert not verify(body, {}, APP_ID, SECRET)


def test_a_body_that_is_not_json_is_never_verified():
    assert not verify(b"{not json", {"X-ZEvent-Signature": "mac=00"}, APP_ID, SECRET)


def test_a_delivery_report_is_read_with_our_tracking_id():
    body, _ = signed(delivered())

    event = parse(body)

    assert event == Delivered(
        msg_id="zalo-msg-1",
        tracking_id="our-id-1",
        at=datetime.fromtimestamp(int(TS) / 1000, tz=UTC),
        timestamp_ms=int(TS),
    )


def test_a_delivery_report_without_a_tracking_id_has_none():
    event = parse(json.dumps(delivered(tracking_id=None)).encode())

    assert isinstance(event, Delivered) and event.tracking_id is None


def test_a_chat_message_receipt_is_not_a_notice_s_delivery():
    event = delivered()
    del event["message"]["delivery_time"]  # type: ignore[attr-defined]

    assert parse(json.dumps(event).encode()) == Ignored("user_received_message", int(TS))


def test_a_user_s_text_is_read_with_the_user_to_answer():
    event = parse(json.dumps(text_event()).encode())

    assert isinstance(event, UserText)
    assert (event.user_id, event.msg_id, event.text) == ("u-7", "m-7", "MCKH 0101701234")


def test_an_event_the_gateway_has_no_use_for_is_ignored():
    event = {"event_name": "follow", "timestamp": TS, "follower": {"id": "u-1"}}

    assert parse(json.dumps(event).encode()) == Ignored("follow", int(TS))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "body is not JSON"),
        (b"\xff\xfe", "body is not JSON"),
        (b"[1, 2]", "body is not a JSON object"),
        (json.dumps({"timestamp": TS}).encode(), "event_name missing"),
        (json.dumps({"event_name": "user_send_text"}).encode(), "timestamp missing"),
        (
            json.dumps({**text_event(), "timestamp": "yesterday"}).encode(),
            "timestamp is not milliseconds",
        ),
        (json.dumps({**text_event(), "sender": None}).encode(), "sender missing"),
        (json.dumps(text_event(msg_id="")).encode(), "message.msg_id missing"),
        (json.dumps(text_event(text=None)).encode(), "message.text missing"),
        (json.dumps({**delivered(), "message": "x"}).encode(), "message missing"),
        (json.dumps(delivered(msg_id=None)).encode(), "message.msg_id missing"),
        (json.dumps(delivered(delivery_time="soon")).encode(), "not milliseconds"),
        (json.dumps(delivered(tracking_id=5)).encode(), "tracking_id is not text"),
    ],
    ids=[
        "malformed JSON",
        "not UTF-8",
        "not an object",
        "no event name",
        "no timestamp",
        "timestamp not a number",
        "no sender",
        "empty msg_id",
        "no text",
        "message not an object",
        "delivery without msg_id",
        "delivery_time not a number",
        "tracking_id not text",
    ],
)
def test_a_malformed_webhook_is_refused_with_a_reason(body, reason):
    with pytest.raises(WebhookError) as info:
        parse(body)

    assert reason in info.value.reason
