"""An agency's `channels`: the order its notices try the channels in, SMS always among
them, each once, e-mail not one of them."""

from __future__ import annotations

import pytest
import yaml

from gateway.domain.channel import Channel
from gateway.settings.config import ConfigError, parse_config
from gateway.settings.show import redacted

AGENCY = "agencies:\n  SCT:\n    name: Sở Công Thương\n"


def agency_with(line: str):
    return parse_config(AGENCY + line, path="/etc/motcua-sms/gateway.yaml", env={})


def refusal(line: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        agency_with(line)
    return info.value


def test_an_agency_sends_by_sms_unless_it_says_otherwise():
    assert agency_with("").agencies["SCT"].channels == (Channel.SMS,)


def test_an_agency_lists_its_channels_in_order_of_preference(tmp_path):
    (tmp_path / "token").write_text("first-refresh-token\n", encoding="utf-8")
    zalo = (
        "zalo:\n  app_id: a\n  oa_id: o\n  refresh_token_file: token\n"
        "  secret_key: s\n  oa_secret_key: k\n"
    )
    config = parse_config(
        AGENCY + "    channels: [zalo, sms]\n" + zalo, path=str(tmp_path / "g.yaml"), env={}
    )

    assert config.agencies["SCT"].channels == (Channel.ZALO, Channel.SMS)


def test_channels_without_sms_are_refused():
    error = refusal("    channels: [zalo]\n")

    assert (error.key, error.line) == ("agencies.SCT.channels", 4)
    assert "sms must be one of the channels" in error.message


def test_a_channel_listed_twice_is_refused():
    error = refusal("    channels: [sms, sms]\n")

    assert "sms is listed twice" in error.message


def test_email_as_a_channel_is_refused_with_the_key_that_turns_it_on():
    error = refusal("    channels: [email, sms]\n")

    assert "set email: true" in error.message


def test_an_unknown_channel_is_refused_with_the_known_ones():
    error = refusal("    channels: [zallo, sms]\n")

    assert "zalo" in error.message


def test_zalo_among_the_channels_without_a_zalo_section_is_refused():
    error = refusal("    channels: [zalo, sms]\n")

    assert error.key == "agencies.SCT.channels"
    assert "there is no `zalo:` section" in error.message


def test_check_config_shows_an_agencys_channels(tmp_path):
    (tmp_path / "token").write_text("first-refresh-token\n", encoding="utf-8")
    zalo = (
        "zalo:\n  app_id: a\n  oa_id: o\n  refresh_token_file: token\n"
        "  secret_key: s\n  oa_secret_key: k\n"
    )
    config = parse_config(
        AGENCY + "    channels: [zalo, sms]\n" + zalo, path=str(tmp_path / "g.yaml"), env={}
    )

    shown = redacted(config)

    assert shown["agencies"]["SCT"]["channels"] == ["zalo", "sms"]
    again = parse_config(yaml.safe_dump(shown, allow_unicode=True), env={})
    assert again.agencies["SCT"].channels == (Channel.ZALO, Channel.SMS)
