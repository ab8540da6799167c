"""The node-smpp SMSC (tests/support/node_smsc.py) as a fixture: one per test.

Needs Node.js. Without `node` on PATH the tests are skipped; CI installs it and runs
`npm ci --no-audit --no-fund` in tests/interop (done here too when node_modules is missing).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.support.node_smsc import NodeSmsc, ensure_node_modules


@pytest.fixture
def node_smsc() -> Iterator[NodeSmsc]:
    """A fresh node-smpp SMSC on an ephemeral port, stopped after the test."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js (`node`) is not on PATH: the node-smpp interop tests need it")
    ensure_node_modules(shutil.which("npm"))
    smsc = NodeSmsc(node)
    try:
        smsc.wait_listening()
        yield smsc
    finally:
        smsc.stop()
    if faults := smsc.faults():
        pytest.fail(f"node SMSC reported errors: {faults}", pytrace=False)
