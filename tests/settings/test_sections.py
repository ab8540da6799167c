"""The typed sections: what each part is given, and how the loader places a refusal."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from gateway.mqtt.link import MqttSettings, TlsSettings
from gateway.settings.config import Config, ConfigError, parse_config
from gateway.settings.show import redacted
from gateway.smpp.model import SessionConfig

AGENCY = "agencies:\n  SCT:\n    name: Sở Công Thương\n"


def parse(text: str) -> Config:
    return parse_config(text, path="/etc/motcua-sms/gateway.yaml", env={})


def refusal(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse(text)
    return info.value


class TestSmppSection:
    def test_the_smpp_section_is_what_the_session_is_started_with(self):
        """No copy between the file's section and the session's settings: one type."""
        smpp = parse("smpp:\n  window: 4\n  bind: transmitter_receiver\n" + AGENCY).smpp

        assert isinstance(smpp, SessionConfig)
        assert (smpp.window, smpp.bind) == (4, "transmitter_receiver")

    def test_relink_default_follows_the_files_response_timeout(self):
        """Unset relink_after is the session's default, 4 × the response_timeout given."""
        smpp = parse("smpp:\n  response_timeout: 5\n" + AGENCY).smpp

        assert smpp.relink_timeout == 20.0
        assert redacted(parse("smpp:\n  response_timeout: 5\n" + AGENCY))["smpp"][
            "relink_after"
        ] == pytest.approx(20.0)

    def test_relink_time_is_kept_when_the_section_is_changed_in_code(self):
        """dataclasses.replace of response_timeout keeps the relink time built with it."""
        smpp = parse(AGENCY).smpp

        assert dataclasses.replace(smpp, response_timeout=2.0).relink_timeout == 120.0


class TestMqttSection:
    def test_link_settings_carry_the_section_and_intakes_payload_limit(self, tmp_path: Path):
        (tmp_path / "ca.pem").write_text("x")
        mqtt = parse(
            "mqtt:\n  host: broker\n  port: 8883\n  client_id: sms-2\n  username: u\n"
            "  password: p\n  keepalive: 15\n  protocol: '3.1.1'\n"
            f"  tls: {{ca_file: {tmp_path}/ca.pem}}\n" + AGENCY
        ).mqtt

        settings = mqtt.link_settings(max_payload=4096)

        assert settings == MqttSettings(
            host="broker",
            port=8883,
            client_id="sms-2",
            username="u",
            password="p",
            keepalive=15,
            protocol="3.1.1",
            max_payload=4096,
            tls=TlsSettings(ca_file=f"{tmp_path}/ca.pem"),
        )

    def test_unknown_tls_key_is_refused_with_its_line_and_the_close_match(self, tmp_path: Path):
        (tmp_path / "ca.pem").write_text("x")
        error = refusal(
            f"mqtt:\n  tls:\n    ca_file: {tmp_path}/ca.pem\n    cert_fil: c.pem\n" + AGENCY
        )

        assert (error.key, error.line) == ("mqtt.tls.cert_fil", 4)
        assert "did you mean 'cert_file'?" in error.message


class TestPlacing:
    def test_of_several_problems_the_one_on_the_lowest_line_is_reported(self):
        """Validation finds them all; the operator is shown the first in the file."""
        error = refusal("smpp:\n  window: ten\n" + AGENCY + "mo:\n  rate_limit: 0\n")

        assert (error.key, error.line) == ("smpp.window", 2)

    def test_cross_check_names_the_key_written_when_the_other_is_a_default(self):
        """reconnect_min above the default reconnect_max: the line of what was written."""
        error = refusal("smpp:\n  host: smsc\n  reconnect_min: 100\n" + AGENCY)

        assert (error.key, error.line) == ("smpp.reconnect_max", 3)

    def test_alias_containing_itself_is_refused(self):
        error = refusal("smpp:\n  shortcodes: &x ['8083', *x]\n" + AGENCY)

        assert (error.key, error.line) == ("smpp.shortcodes[1]", 2)
        assert "alias" in error.message

    def test_source_path_is_not_a_key_of_the_file(self):
        error = refusal("source_path: /tmp/other.yaml\n" + AGENCY)

        assert (error.key, error.line) == ("source_path", 1)
        assert "unknown key" in error.message

    def test_an_agency_cannot_give_itself_another_code(self):
        """The code is the key the agency is written under, nothing else."""
        error = refusal(AGENCY + "    code: STP\n")

        assert (error.key, error.line) == ("agencies.SCT.code", 4)
        assert "unknown key" in error.message

    def test_a_section_written_as_a_value_is_refused(self):
        error = refusal("retry: 5\n" + AGENCY)

        assert (error.key, error.line) == ("retry", 1)
        assert "must be a mapping" in error.message
