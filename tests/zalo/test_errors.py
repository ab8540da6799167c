"""Zalo's error codes classified: fallback to SMS now, retry later, or stop and alert."""

from __future__ import annotations

import pytest

from gateway.zalo.errors import (
    CODES,
    TOKEN_INVALID,
    TokenRefused,
    TokenUnavailable,
    ZnsAction,
    ZnsError,
    classify,
    meaning,
)


@pytest.mark.parametrize(
    "code",
    [-118, -119, -114, -115, -109, -117, -112, -1122, -108],
    ids=[
        "no Zalo account",
        "cannot receive ZNS",
        "user rejects",
        "out of quota",
        "template id invalid",
        "template not permitted",
        "template data invalid",
        "template params missing",
        "phone invalid",
    ],
)
def test_what_only_an_sms_can_fix_falls_back(code):
    assert classify(code) is ZnsAction.FALLBACK


@pytest.mark.parametrize("code", [-32, -100, 0, 429, 500, 502, 503, 504, 408])
def test_what_may_pass_later_is_retried(code):
    assert classify(code) is ZnsAction.RETRY


@pytest.mark.parametrize("code", [-124, -216, -220, -101, -104, -105, -120])
def test_what_an_operator_must_fix_stops_zalo(code):
    assert classify(code) is ZnsAction.STOP


def test_an_unknown_negative_code_is_retried_not_stopped():
    assert classify(-9999) is ZnsAction.RETRY


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_an_http_refusal_that_is_not_a_busy_signal_stops(status):
    assert classify(status) is ZnsAction.STOP


def test_the_token_codes_a_refresh_may_fix_are_in_the_table_as_stop():
    """The client refreshes once on these; refused again, they are STOP."""
    assert CODES.keys() >= TOKEN_INVALID
    assert {classify(code) for code in TOKEN_INVALID} == {ZnsAction.STOP}


def test_an_error_takes_its_action_from_the_table():
    error = ZnsError(-118, "Zalo account not existed")

    assert (error.code, error.action) == (-118, ZnsAction.FALLBACK)


def test_a_refused_refresh_stops_and_a_failed_one_retries():
    assert TokenRefused(-14006, "invalid").action is ZnsAction.STOP
    assert TokenUnavailable(0, "no answer").action is ZnsAction.RETRY
    assert isinstance(TokenRefused(-14006, "x"), ZnsError)


def test_meaning_names_known_codes_and_what_others_are():
    assert meaning(-118) == "Zalo account not existed"
    assert (meaning(0), meaning(503), meaning(-9999)) == (
        "no answer",
        "HTTP 503",
        "unknown Zalo error",
    )
