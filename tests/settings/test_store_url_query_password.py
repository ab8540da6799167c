"""A password in the url's query (`?password=`, which libpq takes as well as `user:pw@`)
is a password in the url all the same: the url is shown and logged (/healthz's store,
`store_unusable` refusals, check-config, the console), so it is refused as the `user:pw@`
form is, without echoing it."""

from __future__ import annotations

import pytest

from gateway.settings.config import ConfigError, parse_config
from gateway.store.url import shown

AGENCY = "agencies:\n  STP:\n    name: Sở Tư pháp\n"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://gateway@db/motcua?password=hunter2",
        "postgresql://gateway@db/motcua?sslmode=require&password=hunter2",
    ],
)
def test_a_url_carrying_a_password_in_its_query_is_refused_without_echoing_it(url: str):
    with pytest.raises(ConfigError) as info:
        parse_config(AGENCY + f"store:\n  url: {url}\n", path="/etc/gw.yaml", env={})

    assert "store.url" in str(info.value)
    assert "hunter2" not in str(info.value)


def test_a_url_as_shown_never_carries_its_query_password():
    assert "hunter2" not in shown("postgresql://gateway@db/motcua?password=hunter2")


def test_a_url_as_shown_keeps_the_rest_of_its_query():
    url = "postgresql://gateway@db:5433/motcua?sslmode=require&PASSWORD=hunter2&connect_timeout=5"

    assert shown(url) == "postgresql://gateway@db:5433/motcua?sslmode=require&connect_timeout=5"


def test_a_url_without_a_password_is_shown_as_written():
    url = "postgresql://gateway@db/motcua?sslmode=require"

    assert shown(url) == url
