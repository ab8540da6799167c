"""How the configuration refuses what it cannot take: a key that YAML does not read as
text, which of several problems is reported, the texts of refusals, numbers too large to
use, and YAML 1.1's base-60 numbers. Each refusal reads `FILE:LINE: KEY: MESSAGE`."""

from __future__ import annotations

import pytest

from gateway.settings.config import ConfigError, parse_config

AGENCY = "agencies:\n  SCT:\n    name: Sở Công Thương\n"
SMPP_KEYS = "known keys: auth_backoff, bind, bind_stable_after"
# A 300-digit integer: YAML reads it, float() cannot.
HUGE = "1" + "0" * 300


def refusal(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(text, path="/etc/motcua-sms/gateway.yaml", env={})
    return info.value


class TestKeysThatAreNotText:
    @pytest.mark.parametrize("key", ["~", "yes", "5"])
    def test_a_non_text_key_at_the_top_is_an_unknown_key_as_written_with_its_line(self, key):
        error = refusal(f"{key}: 1\n" + AGENCY)

        assert str(error) == (
            f"/etc/motcua-sms/gateway.yaml:1: {key}: unknown key; known keys: admin, agencies,"
            " console, daemon, email, keywords, mo, mqtt, report, retry, schedule, smpp, smsc,"
            " store, timezone, zalo"
        )

    def test_a_null_key_in_a_section_is_an_unknown_key_on_its_own_line(self):
        error = refusal("smpp:\n  host: 127.0.0.1\n  ~: 1\n" + AGENCY)

        assert (error.key, error.line) == ("smpp.~", 3)
        assert error.message.startswith("unknown key; " + SMPP_KEYS), error.message

    def test_a_number_key_in_an_agency_is_an_unknown_key_on_its_own_line(self):
        error = refusal(AGENCY + "    5: 1\n")

        assert (error.key, error.line) == ("agencies.SCT.5", 4)
        known = "unknown key; known keys: channels, diacritics, email"
        assert error.message.startswith(known), error


class TestWhichRefusalIsReported:
    def test_an_unknown_key_is_reported_before_a_bad_value_above_it(self):
        # A typo is the likelier cause, and the message that names it is the one that helps.
        error = refusal("smpp:\n  port: 0\n  zzz: 1\n" + AGENCY)

        assert (error.key, error.line) == ("smpp.zzz", 3)

    def test_an_unknown_key_of_a_section_is_reported_before_a_bad_value_deeper_in_it(self):
        error = refusal("smpp:\n  status_classes: {'0x45': nope}\n  zzz: 1\n" + AGENCY)

        assert (error.key, error.line) == ("smpp.zzz", 3)

    def test_values_of_a_section_are_reported_in_file_order_across_depths(self):
        error = refusal("smpp:\n  status_classes: {'0x45': nope}\n  window: 0\n" + AGENCY)

        assert error.key == "smpp.status_classes.0x45"

    def test_sections_are_reported_in_file_order_whatever_their_contents(self):
        error = refusal("mqtt:\n  port: 0\nsmpp:\n  zzz: 1\n" + AGENCY)

        assert (error.key, error.line) == ("mqtt.port", 2)

    def test_a_retry_value_above_ttl_hours_is_reported_before_a_bad_ttl_hours(self):
        error = refusal("retry:\n  max_attempts: 0\n  ttl_hours: 0\n" + AGENCY)

        assert (error.key, error.line) == ("retry.max_attempts", 2)


class TestRefusalTexts:
    def test_an_empty_apology_time_shows_the_empty_value_written(self):
        error = refusal("schedule:\n  apology_at:\n" + AGENCY)

        assert error.message == "must be a time of day as \"HH:MM\", got ''"

    @pytest.mark.parametrize(
        ("written", "shown"), [(".nan", ".nan"), (".inf", ".inf"), ("-.inf", "-.inf")]
    )
    def test_a_non_finite_number_is_shown_as_yaml_writes_it(self, written, shown):
        error = refusal(f"smpp:\n  tps: {written}\n" + AGENCY)

        assert error.message == f"must be a number, 0 or more, got {shown}"

    def test_a_list_for_quiet_hours_must_be_a_single_value(self):
        error = refusal("schedule:\n  quiet_hours: [21:00, 07:00]\n" + AGENCY)

        assert (error.line, error.message) == (2, "must be a single value, got a list")


# Every key the file reads as a number or a count: (section, key).
NUMERIC_KEYS = [
    ("smpp", "port"),
    ("smpp", "window"),
    ("smpp", "tps"),
    ("smpp", "enquire_link_interval"),
    ("smpp", "response_timeout"),
    ("smpp", "receipt_timeout"),
    ("smpp", "relink_after"),
    ("smpp", "bind_stable_after"),
    ("smpp", "connect_timeout"),
    ("smpp", "reconnect_min"),
    ("smpp", "reconnect_max"),
    ("smpp", "auth_backoff"),
    ("smpp", "throttle_pause"),
    ("smpp", "shutdown_timeout"),
    ("smpp", "mo_reassembly_timeout"),
    ("mqtt", "port"),
    ("mqtt", "keepalive"),
    ("mqtt", "session_expiry"),
    ("store", "retention_days"),
    ("retry", "max_attempts"),
    ("retry", "base_delay"),
    ("retry", "max_delay"),
    ("retry", "ttl"),
    ("retry", "ttl_hours"),
    ("mo", "rate_limit"),
    ("mo", "rate_window"),
    ("mo", "duplicate_window"),
    ("mo", "max_lookups"),
    ("admin", "port"),
]


class TestHugeNumbers:
    @pytest.mark.parametrize("value", [HUGE, "-" + HUGE, "1.0e+300"], ids=["int", "-int", "float"])
    @pytest.mark.parametrize(("section", "key"), NUMERIC_KEYS, ids="{0[0]}.{0[1]}".format)
    def test_a_number_too_large_to_use_is_refused_with_its_key_and_line(self, section, key, value):
        error = refusal(f"{section}:\n  {key}: {value}\n" + AGENCY)

        assert (error.key, error.line) == (f"{section}.{key}", 2)
        assert error.message.startswith("must be"), error.message

    def test_a_300_digit_response_timeout_is_shown_by_its_length(self):
        error = refusal(f"smpp:\n  response_timeout: {HUGE}\n" + AGENCY)

        assert error.message == (
            "must be a number greater than 0, at most 1e+09, got 100000… (301 digits)"
        )


class TestBase60:
    def test_an_unquoted_base_60_port_is_refused_saying_how_yaml_reads_it(self):
        # YAML 1.1 reads 46:15 as 46 * 60 + 15 = 2775; nobody writing a port means that.
        error = refusal("smpp:\n  port: 46:15\n" + AGENCY)

        assert (error.key, error.line) == ("smpp.port", 2)
        assert error.message == (
            "must be an integer from 1 to 65535, got '46:15', which YAML 1.1 reads as the "
            "base-60 number 2775; write the number itself"
        )

    def test_an_unquoted_base_60_rate_is_refused(self):
        error = refusal("smpp:\n  tps: 1:30\n" + AGENCY)

        assert error.key == "smpp.tps"
        assert "base-60 number 90" in error.message
