"""The mail tests' certificates: a CA the sender is told to trust, and another it is not."""

from __future__ import annotations

import pytest

from tests.support.broker import Certificates, make_certificates


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("smtp-certs"))


@pytest.fixture(scope="session")
def untrusted(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A server certificate for 127.0.0.1 from a CA nobody configured."""
    return make_certificates(tmp_path_factory.mktemp("smtp-untrusted"))
