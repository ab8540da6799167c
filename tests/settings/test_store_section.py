"""The `store:` section's two engines: an SQLite `path` (the default) or a PostgreSQL
`url`, with its password from the environment, a file or the YAML, every refusal naming
the key, and check-config never showing the password."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gateway.cli import main
from gateway.settings.config import Config, ConfigError, parse_config
from gateway.settings.show import redacted
from gateway.settings.store import STORE_PASSWORD_ENV

PATH = "/etc/motcua-sms/gateway.yaml"
AGENCY = "agencies:\n  STP:\n    name: Sở Tư pháp\n"
URL = "postgresql://gateway@db.hcm.gov.vn:5432/motcua"


def parse(text: str, path: str = PATH, **env: str) -> Config:
    return parse_config(AGENCY + text, path=path, env=env)


def refusal(text: str, **env: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse(text, **env)
    return str(info.value)


def test_without_a_url_the_store_is_the_sqlite_file():
    store = parse("store:\n  path: /var/lib/x/gateway.db\n").store

    assert (store.url, store.password, store.location) == (None, None, "/var/lib/x/gateway.db")


def test_a_url_makes_the_store_that_postgresql_database():
    store = parse(f"store:\n  url: {URL}\n").store

    assert (store.url, store.location, store.password) == (URL, URL, None)


def test_the_password_comes_from_the_environment_first(tmp_path: Path):
    secret = tmp_path / "pg.pass"
    secret.write_text("from-file\n")
    text = f"store:\n  url: {URL}\n  password_file: {secret}\n"

    assert parse(text, **{STORE_PASSWORD_ENV: "from-env"}).store.password == "from-env"
    assert parse(text).store.password == "from-file"


def test_a_relative_password_file_is_beside_the_configuration(tmp_path: Path):
    (tmp_path / "pg.pass").write_text("beside\n")
    text = f"store:\n  url: {URL}\n  password_file: pg.pass\n"

    assert parse(text, path=str(tmp_path / "gateway.yaml")).store.password == "beside"


def test_path_and_url_together_are_refused():
    message = refusal(f"store:\n  path: /var/lib/x/gateway.db\n  url: {URL}\n")

    assert "store.url" in message
    assert "exclusive" in message


@pytest.mark.parametrize(
    "url", ["mysql://gateway@db/motcua", "postgres://gateway@db/motcua", "/var/lib/gateway.db"]
)
def test_a_url_that_is_not_postgresql_is_refused(url: str):
    message = refusal(f"store:\n  url: {url}\n")

    assert "store.url" in message
    assert "not a PostgreSQL url" in message


def test_a_url_carrying_a_password_is_refused_without_echoing_it():
    message = refusal("store:\n  url: postgresql://gateway:hunter2@db/motcua\n")

    assert "store.url" in message
    assert "password_file" in message
    assert "hunter2" not in message


def test_a_url_naming_no_database_is_refused():
    assert "names no database" in refusal("store:\n  url: postgresql://gateway@db\n")


def test_a_url_naming_no_server_is_refused():
    assert "names no server" in refusal("store:\n  url: postgresql:///motcua\n")


def test_a_url_with_a_port_that_is_no_number_is_refused():
    assert "not a valid url" in refusal("store:\n  url: postgresql://gateway@db:x/motcua\n")


def test_an_unreadable_password_file_is_refused_naming_it(tmp_path: Path):
    message = refusal(f"store:\n  url: {URL}\n  password_file: {tmp_path / 'missing'}\n")

    assert "store.password_file" in message
    assert "cannot read" in message


def test_an_empty_password_file_is_refused(tmp_path: Path):
    (tmp_path / "pg.pass").write_text("\n")

    message = refusal(f"store:\n  url: {URL}\n  password_file: {tmp_path / 'pg.pass'}\n")

    assert "is empty" in message


@pytest.mark.parametrize("key", ["password", "password_file"])
def test_a_password_for_an_sqlite_file_is_refused(key: str):
    message = refusal(f"store:\n  path: /var/lib/x/gateway.db\n  {key}: x\n")

    assert f"store.{key}" in message
    assert "PostgreSQL" in message


def test_a_password_in_the_environment_does_not_refuse_an_sqlite_store():
    store = parse("store:\n  path: /var/lib/x/gateway.db\n", **{STORE_PASSWORD_ENV: "x"}).store

    assert store.password is None


def test_check_config_shows_the_url_and_not_the_password(tmp_path: Path, capsys):
    path = tmp_path / "gateway.yaml"
    path.write_text(AGENCY + f"store:\n  url: {URL}\n  password: hunter2\n", encoding="utf-8")

    assert main(["check-config", "-c", str(path)]) == 0

    out = capsys.readouterr().out
    shown = yaml.safe_load(out)["store"]
    assert (shown["url"], shown["password"]) == (URL, "***")
    assert "hunter2" not in out


def test_the_redacted_configuration_holds_no_store_password():
    assert redacted(parse(f"store:\n  url: {URL}\n  password: p\n"))["store"]["password"] == "***"


@pytest.mark.parametrize("value", ["[]", "5432", "''"])
def test_a_url_that_is_no_text_or_empty_is_refused(value: str):
    message = refusal(f"store:\n  url: {value}\n")

    assert "store.url" in message
