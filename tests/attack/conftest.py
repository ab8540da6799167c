"""The node-smpp SMSC as a fixture for tests that route between two SMSCs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.node_smsc import NodeSmsc, started


@pytest.fixture
def node_smsc() -> Iterator[NodeSmsc]:
    with started() as smsc:
        yield smsc
