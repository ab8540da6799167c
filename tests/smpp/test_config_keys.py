"""The smpp keys for slow SMSCs, bind back-off and validity_period: read, checked, wired."""

from __future__ import annotations

import pytest

from gateway.settings.config import Config, ConfigError, parse_config
from gateway.smpp.model import SessionConfig

AGENCY = "agencies:\n  SCT:\n    name: Sở Công Thương\n"


def parse(smpp: str) -> Config:
    return parse_config(f"smpp:\n{smpp}{AGENCY}", path="/etc/motcua-sms/gateway.yaml", env={})


def test_defaults_wait_four_response_timeouts_before_a_relink():
    """Unset: relink after 4 × response_timeout (120 s for the default 30 s, Kannel's
    wait-ack is 60 s), a bind is stable after 10 s, validity_period is sent."""
    config = parse("  port: 2775\n").smpp

    assert isinstance(config, SessionConfig)  # what the session is started with
    assert config.relink_timeout == 120.0
    assert config.bind_stable_after == 10.0
    assert config.validity_period is True


def test_keys_reach_the_session():
    smpp = parse(
        "  response_timeout: 5\n  relink_after: 12\n  bind_stable_after: 3\n"
        "  validity_period: false\n"
    ).smpp
    assert (smpp.relink_timeout, smpp.bind_stable_after, smpp.validity_period) == (
        12.0,
        3.0,
        False,
    )


def test_relink_after_not_beyond_the_response_timeout_is_refused():
    """A relink before the timeout would leave no time for a late answer: refused, with
    the key and the reason."""
    with pytest.raises(ConfigError, match=r"smpp\.relink_after.*more than response_timeout"):
        parse("  response_timeout: 30\n  relink_after: 30\n")


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_bind_stable_after_must_be_a_positive_number(value):
    with pytest.raises(ConfigError, match=r"smpp\.bind_stable_after"):
        parse(f"  bind_stable_after: {value}\n")


@pytest.mark.parametrize("value", ["0", "-1", "two days"])
def test_receipt_timeout_must_be_a_positive_number(value):
    with pytest.raises(ConfigError, match=r"smpp\.receipt_timeout"):
        parse(f"  receipt_timeout: {value}\n")


def test_receipt_timeout_defaults_to_two_days():
    assert parse("").smpp.receipt_timeout == 172800


@pytest.mark.parametrize("value", ["sometimes", "2"])
def test_validity_period_must_be_true_or_false(value):
    with pytest.raises(ConfigError, match=r"smpp\.validity_period"):
        parse(f"  validity_period: {value}\n")


@pytest.mark.parametrize("value", ["ucs2", "latin-1", "0"])
def test_default_alphabet_outside_gsm7_and_latin1_is_refused(value):
    with pytest.raises(ConfigError, match=r"smpp\.default_alphabet"):
        parse(f"  default_alphabet: {value}\n")
