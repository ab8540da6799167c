"""The server's clock on a host whose own clock is stepped (chrony's `makestep` after a boot,
a VM resumed), and the server going away while a daemon starts.

- A daemon reads the server's time on its monotonic clock plus the measured offset, so a
  step of its host's wall clock between two measures does not move it: it never judges a
  daemon that beat a second ago dead, nor takes its claims or leases.
- The server going away while a starting daemon migrates the store (pg_ctl restart, a
  failover, its backend ended) is "unavailable just now" (exit 1, which systemd restarts),
  not a refusal (exit 3, which it does not)."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from gateway.store import postgres, server_time
from gateway.store.schema import StoreUnavailable
from gateway.store.store import Store

# Seconds two reads of the server's time may be apart on a loaded machine.
BETWEEN = 5.0


async def test_a_daemons_server_time_follows_its_monotonic_clock_which_ntp_never_steps(
    postgres_url,
):
    async with Store.open(postgres_url) as store:
        clock = store.database.lease_clock
        assert isinstance(clock, server_time.ServerTime) and clock.host is time.monotonic
        with psycopg.connect(postgres_url, autocommit=True) as db:
            row = db.execute("SELECT extract(epoch FROM clock_timestamp())::float8").fetchone()
    assert row is not None
    assert abs(clock() - float(row[0])) < BETWEEN


def test_a_server_gone_while_the_store_migrates_is_unavailable_not_a_refusal(postgres_url):
    holder = psycopg.connect(postgres_url, autocommit=True)
    outcome: list[BaseException | object] = []
    try:
        holder.execute("BEGIN")
        holder.execute(f"SELECT pg_advisory_xact_lock({postgres.WRITE_LOCK})")

        def starting() -> None:  # a second daemon starting while the first migrates
            try:
                outcome.append(postgres.connect(postgres_url, None)[0])
            except BaseException as exc:
                outcome.append(exc)

        thread = threading.Thread(target=starting, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        ended = False
        while time.monotonic() < deadline and not ended:
            with psycopg.connect(postgres_url, autocommit=True) as admin:
                ended = bool(
                    admin.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'"
                    ).fetchall()
                )
            time.sleep(0.1)
        assert ended, f"the starting daemon never waited on the write lock: {outcome}"
        thread.join(30)
        assert outcome, "connect did not return"
    finally:
        holder.close()
    found = outcome[0]
    if isinstance(found, postgres.PgConnection):
        found.close()
        pytest.fail("connect went on on a connection the server ended")
    assert isinstance(found, StoreUnavailable), f"{type(found).__name__}: {found}"


def test_the_stores_connection_notices_a_server_gone_without_a_reset(postgres_url):
    """TCP keep-alives and a user timeout on the store's connection: a failover without a
    reset ends it in about half a minute, not the kernel's quarter of an hour."""
    connection, _version = postgres.connect(postgres_url, None)
    try:
        dsn = dict(item.split("=", 1) for item in connection.connection.info.dsn.split())
    finally:
        connection.close()
    assert (dsn.get("keepalives"), dsn.get("tcp_user_timeout")) == ("1", "30000")
