from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from gateway.ops.logs import configure_logging
from tests.support.broker import INSTALL_HINT, Broker, find_mosquitto
from tests.support.daemon import DAEMON_LOGS
from tests.support.logscan import leaks_in
from tests.support.postgres import PostgresServer, started_server
from tests.support.published import violations
from tests.support.slow import mark_slow


def _started_broker() -> Broker:
    executable = find_mosquitto()
    if executable is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    broker = Broker(executable)
    broker.start()
    return broker


@pytest.fixture(scope="session")
def broker() -> Iterator[Broker]:
    """One mosquitto for the whole session; tests keep apart by client id and topic."""
    broker = _started_broker()
    yield broker
    broker.close()


@pytest.fixture
def fresh_broker() -> Iterator[Broker]:
    """A mosquitto of the test's own, free to stop, restart and kill."""
    broker = _started_broker()
    yield broker
    broker.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole session (tests/support/postgres.py); each test
    gets a database of its own. No binaries: the test fails, saying how to install them."""
    try:
        server = started_server()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The url of a new PostgreSQL database holding the store's schema and nothing else."""
    url = postgres_server.new_database()
    yield url
    postgres_server.drop(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """Where a test's store is, on each engine in turn: an SQLite file in the test's
    directory, then a PostgreSQL database of its own."""
    if request.param == "sqlite":
        return tmp_path / "gateway.db"
    return request.getfixturevalue("postgres_url")


def pytest_configure(config: pytest.Config) -> None:
    """Every log line of the run, in-process and daemons', goes where the final check
    reads it, through the same processors as in production."""
    DAEMON_LOGS.mkdir(exist_ok=True)
    # At debug every daemon of the run logs each status it published (`status_published`),
    # which the session's end holds to the status schema; subprocess daemons inherit it.
    os.environ["MOTCUA_SMS_LOG_LEVEL"] = "debug"
    global _LOG_STREAM
    _LOG_STREAM = (DAEMON_LOGS / "in-process.log").open("a", encoding="utf-8")
    configure_logging(json=True, file=_LOG_STREAM)
    global _LOG_FACTORY
    _LOG_FACTORY = structlog.get_config()["logger_factory"]


_LOG_STREAM = None
_LOG_FACTORY = None


@pytest.fixture(autouse=True)
def _logs_back_to_the_scan() -> Iterator[None]:
    """A command run in-process (`main([...])`) sets logging up for itself; put it back so
    that the next test's lines are scanned too."""
    yield
    global _LOG_FACTORY
    if _LOG_STREAM is not None and structlog.get_config()["logger_factory"] is not _LOG_FACTORY:
        configure_logging(json=True, file=_LOG_STREAM)
        _LOG_FACTORY = structlog.get_config()["logger_factory"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the slow tests (tests/support/slow.py), for `-m "not slow"`."""
    mark_slow(items)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any log line carries a full phone number (SPEC: Personal data), or
    if any status a daemon published breaks the documented status schema (docs/)."""
    found = leaks_in(DAEMON_LOGS)
    if found:
        print("\nFull phone numbers in the logs of this run:", file=sys.stderr)
        for line in found[:20]:
            print(f"  {line[:300]}", file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        return
    _, off_schema = violations(DAEMON_LOGS)
    if off_schema:
        print("\nStatuses published in this run that break docs/schema/status.json:",
              file=sys.stderr)  # fmt: skip
        for line in off_schema[:20]:
            print(f"  {line[:300]}", file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        return
    shutil.rmtree(DAEMON_LOGS, ignore_errors=True)
