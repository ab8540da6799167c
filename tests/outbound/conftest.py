"""The node-smpp SMSC as a fixture for tests that route between two SMSCs; the SMTP
server's certificates for the mail sender's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.broker import Certificates, make_certificates
from tests.support.node_smsc import NodeSmsc, started


@pytest.fixture
def node_smsc() -> Iterator[NodeSmsc]:
    with started() as smsc:
        yield smsc


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("smtp-certs"))
