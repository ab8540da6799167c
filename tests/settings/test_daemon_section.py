"""The `daemon:` section: this daemon's name among the daemons of its store, and its lease."""

from __future__ import annotations

import socket

import pytest

from gateway.settings.config import ConfigError, parse_config

AGENCY = "agencies:\n  SCT:\n    name: Sở Công Thương\n"


def refusal(section: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config("daemon:\n" + section + AGENCY, path="g.yaml", env={})
    return info.value


def test_without_a_daemon_section_the_name_is_the_host_name_and_the_lease_30_seconds():
    daemon = parse_config(AGENCY, env={}).daemon

    assert (daemon.name, daemon.lease_seconds) == (socket.gethostname(), 30)


def test_the_name_and_lease_are_read_from_the_daemon_section():
    written = "daemon:\n  name: gw-2.hue\n  lease_seconds: 12\n"
    daemon = parse_config(written + AGENCY, env={}).daemon

    assert (daemon.name, daemon.lease_seconds, daemon.heartbeat_every) == ("gw-2.hue", 12, 4.0)


def test_an_empty_name_is_refused():
    error = refusal("  name: ''\n")

    assert (error.key, error.line) == ("daemon.name", 2)


def test_a_name_with_a_space_is_refused_naming_the_characters_allowed():
    error = refusal("  name: gw 1\n")

    assert (error.key, error.line) == ("daemon.name", 2)
    assert "letters, digits" in str(error)


def test_a_name_longer_than_63_characters_is_refused():
    error = refusal(f"  name: {'g' * 64}\n")

    assert (error.key, error.line) == ("daemon.name", 2)
    assert "at most 63" in str(error)


def test_a_name_that_is_no_text_is_refused():
    error = refusal("  name: [gw]\n")

    assert (error.key, error.line) == ("daemon.name", 2)


@pytest.mark.parametrize("value", ["2", "3601", "0", "-5"])
def test_a_lease_outside_3_to_3600_seconds_is_refused(value):
    error = refusal(f"  lease_seconds: {value}\n")

    assert (error.key, error.line) == ("daemon.lease_seconds", 2)
    assert "from 3 to 3600" in str(error)


@pytest.mark.parametrize("value", ["ten", "4.5"])
def test_a_lease_that_is_no_whole_number_of_seconds_is_refused(value):
    error = refusal(f"  lease_seconds: {value}\n")

    assert (error.key, error.line) == ("daemon.lease_seconds", 2)


def test_an_unknown_key_in_the_daemon_section_is_refused():
    error = refusal("  nmae: gw-1\n")

    assert (error.key, error.line) == ("daemon.nmae", 2)
    assert "did you mean 'name'" in str(error)


def test_a_changed_daemon_name_needs_a_restart():
    from gateway.settings.reload import Reload

    running = parse_config("daemon:\n  name: gw-1\n" + AGENCY, env={})
    new = parse_config("daemon:\n  name: gw-2\n" + AGENCY, env={})

    change = Reload.of(running, new)

    assert change.needs_restart == ("daemon",)
    assert change.config.daemon.name == "gw-1"


def test_a_daemon_section_that_is_no_mapping_is_refused():
    with pytest.raises(ConfigError) as info:
        parse_config("daemon: gw-1\n" + AGENCY, path="g.yaml", env={})

    assert info.value.key == "daemon"


@pytest.mark.parametrize("name", ["-gw", ".gw"])
def test_a_name_starting_with_a_dash_or_a_dot_is_refused(name):
    error = refusal(f"  name: '{name}'\n")

    assert error.key == "daemon.name"

