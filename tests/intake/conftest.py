"""The intake rig as a fixture for every intake test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.compose.composer import Composer
from gateway.intake.consumer import Intake
from gateway.store.store import Store
from tests.support.intake import IntakeRig, config


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[IntakeRig]:
    async with Store.open(tmp_path / "gateway.db") as store:
        cfg = config()
        yield IntakeRig(store, Intake(store, Composer(cfg), cfg))
