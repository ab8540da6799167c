"""What a running daemon keeps in memory is what its configuration uses: a part that is
not configured (a PostgreSQL store, Zalo, e-mail) is not even imported, and the national
calendar is Vietnam's alone. Read from the modules a daemon run as systemd runs it loaded,
from start-up to shutdown (tests/support/imports.py)."""

from __future__ import annotations

from pathlib import Path

from tests.support.broker import Broker, free_port
from tests.support.daemon import write_daemon_config
from tests.support.imports import daemon_modules

EMAIL = "email:\n  host: 127.0.0.1\n  port: 2525\n  from: 'Một cửa <motcua@example.gov.vn>'\n"


async def _modules(tmp_path: Path, broker: Broker, sections: str = "") -> set[str]:
    """The modules of a daemon on an SQLite store, the SMSC down, and `sections`."""
    admin = free_port()
    config = tmp_path / "gateway.yaml"
    write_daemon_config(
        config, broker_port=broker.port, smsc_port=free_port(), db=tmp_path / "gateway.db",
        admin_port=admin, sections=sections,
    )  # fmt: skip
    return await daemon_modules(config, admin)


def _under(modules: set[str], *packages: str) -> set[str]:
    return {m for m in modules if any(m == p or m.startswith(p + ".") for p in packages)}


async def test_a_daemon_on_an_sqlite_store_does_not_load_psycopg(tmp_path: Path, broker: Broker):
    modules = await _modules(tmp_path, broker)
    assert "gateway.store.database" in modules
    assert _under(modules, "psycopg", "psycopg_binary", "gateway.store.postgres") == set()


async def test_a_daemon_without_zalo_does_not_load_the_zalo_client_or_webhook_server(
    tmp_path: Path, broker: Broker
):
    modules = await _modules(tmp_path, broker)
    assert _under(modules, "gateway.zalo.client", "gateway.zalo.server") == set()


async def test_a_daemon_without_email_does_not_load_the_smtp_client_or_the_qr_encoder(
    tmp_path: Path, broker: Broker
):
    modules = await _modules(tmp_path, broker)
    mail = ("aiosmtplib", "segno", "gateway.mail.smtp", "gateway.mail.letter")
    assert _under(modules, *mail) == set()


async def test_a_daemon_with_email_loads_the_smtp_client(tmp_path: Path, broker: Broker):
    modules = await _modules(tmp_path, broker, sections=EMAIL)
    assert {"aiosmtplib", "gateway.mail.smtp", "gateway.outbound.mail"} <= modules


async def test_a_daemon_loads_no_national_calendar_but_vietnams(tmp_path: Path, broker: Broker):
    modules = await _modules(tmp_path, broker)
    assert _under(modules, "holidays.countries") == {"holidays.countries.vietnam"}
