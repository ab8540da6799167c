"""The simulator, an HTTP session and a settable clock for the Zalo tests."""

from __future__ import annotations

import aiohttp
import pytest

from tests.support.clock import Clock
from tests.support.zalo import zalo_rig


@pytest.fixture
async def rig(tmp_path):
    async with zalo_rig(tmp_path) as started:
        yield started


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as opened:
        yield opened


@pytest.fixture
def clock() -> Clock:
    return Clock(1000.0)
