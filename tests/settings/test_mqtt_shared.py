"""`mqtt.shared_group`, `mqtt.handover_delay` and the client id's default."""

from __future__ import annotations

import socket

import pytest

from gateway.settings.config import Config, ConfigError, parse_config
from gateway.settings.show import redacted

AGENCY = "agencies:\n  SCT:\n    name: Sở Công Thương\n"
# Shared intake is for daemons on one PostgreSQL store (tests/settings/test_shared_group_store.py).
STORE = "store:\n  url: postgresql://sms@db.example:5432/motcua\n"


def parse(text: str) -> Config:
    return parse_config(text, path="/etc/motcua-sms/gateway.yaml", env={})


def refusal(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse(text)
    return info.value


def test_the_client_id_of_a_daemon_alone_defaults_to_the_one_it_always_had():
    assert parse(AGENCY).mqtt.client_id == "motcua-sms-1"


def test_the_client_id_with_shared_intake_defaults_to_one_named_for_the_daemon():
    config = parse(STORE + "daemon:\n  name: sms-b\nmqtt:\n  shared_group: hcm\n" + AGENCY)

    assert config.mqtt.client_id == "motcua-sms-sms-b"


def test_the_client_id_with_shared_intake_and_no_daemon_name_is_named_for_the_machine():
    config = parse(STORE + "mqtt:\n  shared_group: hcm\n" + AGENCY)

    assert config.mqtt.client_id == f"motcua-sms-{socket.gethostname()}"


def test_a_client_id_given_is_kept():
    assert parse("mqtt:\n  client_id: sms-2\n" + AGENCY).mqtt.client_id == "sms-2"


def test_intake_is_not_shared_by_default_and_the_link_leaves_no_will():
    mqtt = parse(AGENCY).mqtt

    assert mqtt.shared_group is None and mqtt.link_settings().gone_topic is None


def test_a_shared_group_gives_the_link_its_will_topic_and_handover_delay():
    mqtt = parse(STORE + "mqtt:\n  shared_group: hcm\n  handover_delay: 20\n" + AGENCY).mqtt
    settings = mqtt.link_settings()

    assert (settings.gone_topic, settings.will_delay) == ("motcua/_gateway/hcm/gone", 20)


def test_check_config_shows_the_shared_group_and_handover_delay():
    shown = redacted(parse(STORE + "mqtt:\n  shared_group: hcm\n" + AGENCY))["mqtt"]

    assert (shown["shared_group"], shown["handover_delay"]) == ("hcm", 10)


@pytest.mark.parametrize("name", ["a/b", "a+", "#"])
def test_a_shared_group_with_a_topic_character_is_refused_with_its_line(name):
    error = refusal(STORE + f"mqtt:\n  shared_group: '{name}'\n" + AGENCY)

    assert (error.key, error.line) == ("mqtt.shared_group", 4)
    assert "without '/', '+' or '#'" in error.message


def test_an_empty_shared_group_is_refused():
    error = refusal(STORE + "mqtt:\n  shared_group: ' '\n" + AGENCY)

    assert (error.key, error.message) == ("mqtt.shared_group", "must not be empty")


def test_a_shared_group_on_mqtt_3_1_1_is_refused():
    error = refusal(STORE + "mqtt:\n  protocol: '3.1.1'\n  shared_group: hcm\n" + AGENCY)

    assert (error.key, error.line) == ("mqtt.shared_group", 5)
    assert error.message == 'shared intake needs protocol "5"'


def test_a_handover_delay_of_zero_is_refused():
    error = refusal("mqtt:\n  handover_delay: 0\n" + AGENCY)

    assert (error.key, error.message) == (
        "mqtt.handover_delay", "must be an integer from 1 to 86400, got 0"
    )


def test_a_shared_group_that_is_no_text_is_refused():
    error = refusal(STORE + "mqtt:\n  shared_group: [hcm]\n" + AGENCY)

    assert error.key == "mqtt.shared_group"


@pytest.mark.parametrize("value", ["86401", "1.5", "'10s'"])
def test_a_handover_delay_outside_a_day_or_not_whole_seconds_is_refused(value):
    error = refusal(f"mqtt:\n  handover_delay: {value}\n" + AGENCY)

    assert error.key == "mqtt.handover_delay"
    assert "must be an integer from 1 to 86400" in error.message
