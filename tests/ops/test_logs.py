"""Log lines mask numbers the one way the phone package does (gateway.ops.logs)."""

from __future__ import annotations

import io
import json

import pytest
import structlog

from gateway.ops.logs import configure_logging, mask_value
from gateway.phone.numbers import mask_phone


@pytest.mark.parametrize("number", ["84905123456", "0905123456", "905123456", "+84905123456"])
def test_a_number_in_a_log_value_is_masked_as_statuses_mask_it(number: str):
    digits = number.lstrip("+")

    assert mask_value(f"sent to {number} ok") == f"sent to {mask_phone(digits)} ok"


def test_a_nine_digit_number_keeps_only_its_last_two_digits():
    """A national number typed without its 0 (before: `9051***56`, six digits of nine)."""
    assert mask_value("905123456") == "*******56"


def test_a_number_written_with_spaces_and_dots_is_masked_by_its_digits():
    assert mask_value("0905 123.456") == mask_phone("0905123456")


def test_an_integer_that_can_be_a_number_is_masked():
    assert mask_value(84905123456) == "8490*****56"


def test_runs_shorter_than_a_phone_number_stay_readable():
    assert mask_value("window 10, 12345678 bytes") == "window 10, 12345678 bytes"


def test_an_event_carries_the_mask_and_never_a_body_or_password():
    out = io.StringIO()
    configure_logging(json=True, file=out)  # the session's own set-up comes back after
    structlog.get_logger("t").info("x", to="84905123456", text="MCKH 0101701234", password="s3")
    line = json.loads(out.getvalue().splitlines()[-1])

    assert (line["to"], line["text"], line["password"]) == (
        "8490*****56",
        "[redacted]",
        "[redacted]",
    )


def test_a_logger_cached_before_a_second_set_up_takes_its_processors():
    """structlog keeps the processor list a cached logger was made with; configure_logging
    changes that list in place, so a command run in-process changes every logger."""
    out = io.StringIO()
    configure_logging(json=True, file=out)
    cached = structlog.get_logger("cached")
    cached.info("first")
    configure_logging(json=False, file=io.StringIO())
    cached.info("second", to="84905123456")
    first, second = out.getvalue().splitlines()[-2:]

    assert json.loads(first)["event"] == "first"
    assert not second.startswith("{")
    assert "second" in second and "8490*****56" in second


def test_the_level_comes_from_the_environment_when_the_command_sets_none(monkeypatch):
    out = io.StringIO()
    monkeypatch.setenv("MOTCUA_SMS_LOG_LEVEL", "warning")
    configure_logging(json=True, file=out)
    log = structlog.get_logger("test")
    log.info("not_shown")
    log.warning("shown")
    assert [json.loads(line)["event"] for line in out.getvalue().splitlines()] == ["shown"]


def test_an_unknown_level_is_said_once_and_info_is_used(monkeypatch):
    out = io.StringIO()
    monkeypatch.setenv("MOTCUA_SMS_LOG_LEVEL", "loud")
    configure_logging(json=True, file=out)
    structlog.get_logger("test").info("shown")
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e["event"] for e in events] == ["log_level_unknown", "shown"]
    assert events[0]["given"] == "loud"
