"""Configuration refusals that read differently since the pydantic loader replaced the
hand-written checks (the contract: a configuration error names the key and the line)."""

from __future__ import annotations

import pytest

from gateway.settings.config import ConfigError, parse_config

AGENCY = "agencies:\n  SCT:\n    name: Sở Công Thương\n"


def refusal(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(text, path="/etc/motcua-sms/gateway.yaml", env={})
    return info.value


@pytest.mark.parametrize("key", ["~", "yes", "5"])
def test_a_non_text_key_at_the_top_is_an_unknown_key_with_its_line(key):
    error = refusal(f"{key}: 1\n" + AGENCY)
    assert error.line == 1
    assert "unknown key" in error.message, str(error)


def test_a_null_key_in_a_section_names_its_own_line():
    error = refusal("smpp:\n  host: 127.0.0.1\n  ~: 1\n" + AGENCY)
    assert error.line == 3, str(error)
    assert "unknown key" in error.message, str(error)


def test_an_unknown_key_is_reported_before_a_bad_value_as_before():
    # The old loader checked the keys of a section before its values: a typo is the
    # likelier cause, and the message that names it is the one that helps.
    error = refusal("smpp:\n  port: 0\n  zzz: 1\n" + AGENCY)
    assert error.key == "smpp.zzz", str(error)


def test_an_empty_apology_time_shows_the_empty_value_not_none():
    error = refusal("schedule:\n  apology_at:\n" + AGENCY)
    assert "None" not in str(error), str(error)
