"""The intake rig as a fixture for every intake test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.store.store import Store
from tests.support.intake import IntakeRig, config, intake_on


@pytest.fixture
async def rig(tmp_path: Path, store_location) -> AsyncIterator[IntakeRig]:
    async with Store.open(store_location) as store:
        cfg = config()
        yield IntakeRig(store, intake_on(store, cfg))
