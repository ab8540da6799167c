"""`mqtt.shared_group` is several daemons sharing one store's intake: only on a PostgreSQL
store (`store.url`). On SQLite (one daemon per store) it would split the jobs between
stores that cannot see each other."""

from __future__ import annotations

import pytest

from gateway.settings.config import ConfigError, parse_config

AGENCY = "agencies:\n  SCT:\n    name: Sở Công Thương\n"
SHARED = "mqtt:\n  shared_group: hcm\n"


def refusal(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(text, path="/etc/motcua-sms/gateway.yaml", env={})
    return info.value


def test_a_shared_group_on_an_sqlite_store_is_refused_naming_store_url():
    """Two hosts configured with `shared_group`, each on its own SQLite file: the broker
    gives each job to one of them, so an MCKH lookup on one host for a dossier the other
    took would answer "not found" (1,000 VND charged), and the receipts of one host's SMS
    arriving on the other's session would match nothing. Refused at start-up."""
    error = refusal("store:\n  path: /var/lib/motcua-sms/gateway.db\n" + SHARED + AGENCY)

    assert (error.key, error.line) == ("mqtt.shared_group", 4)
    assert "store.url" in error.message and "PostgreSQL" in error.message


def test_a_shared_group_on_the_default_store_is_refused():
    error = refusal(SHARED + AGENCY)

    assert (error.key, error.line) == ("mqtt.shared_group", 2)


def test_a_shared_group_on_a_postgresql_store_is_accepted():
    config = parse_config(
        "store:\n  url: postgresql://sms@db.example:5432/motcua\n" + SHARED + AGENCY,
        path="/etc/motcua-sms/gateway.yaml", env={},
    )  # fmt: skip

    assert (config.mqtt.shared_group, config.store.url) == (
        "hcm", "postgresql://sms@db.example:5432/motcua",
    )  # fmt: skip
