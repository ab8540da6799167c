"""The simulator, an inbox and bound sessions as fixtures; the helpers are in tests/support/."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from gateway.smpp.session import Session
from gateway.smpp.sim import SimConfig, SmscSimulator
from tests.support.session import Inbox, session_config


@pytest.fixture
async def smsc() -> AsyncIterator[SmscSimulator]:
    async with SmscSimulator(SimConfig(receipt_delay=0.01)) as sim:
        yield sim


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


SessionFactory = Callable[..., Awaitable[Session]]


@pytest.fixture
async def bound_session(smsc: SmscSimulator, inbox: Inbox) -> AsyncIterator[SessionFactory]:
    """Factory: a session bound to the `smsc` fixture, closed at teardown."""
    sessions: list[Session] = []

    async def make(**overrides: Any) -> Session:
        session = Session(session_config(smsc.port, **overrides), inbox)
        await session.__aenter__()
        sessions.append(session)
        await session.wait_bound(timeout=5)
        return session

    yield make
    for session in sessions:
        await session.close()
