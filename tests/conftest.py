from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.broker import INSTALL_HINT, Broker, find_mosquitto


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
