"""The node-smpp SMSC (tests/support/node_smsc.py) as a fixture: one per test.

Needs Node.js. Without `node` on PATH the tests are skipped; CI installs it and runs
`npm ci --no-audit --no-fund` in tests/interop (done here too when node_modules is missing).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.node_smsc import NodeSmsc, started


@pytest.fixture
def node_smsc() -> Iterator[NodeSmsc]:
    """A fresh node-smpp SMSC on an ephemeral port, stopped after the test."""
    with started() as smsc:
        yield smsc
