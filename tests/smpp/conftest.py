from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from gateway.smpp.inbound import Inbound
from gateway.smpp.session import Session, SessionConfig
from gateway.smpp.sim import SimConfig, SmscSimulator


class Inbox:
    """Collects what a session hands to its deliver callback; a test waits on it."""

    def __init__(self) -> None:
        self.items: list[Inbound] = []
        self._changed = asyncio.Event()
        self.fail_next = 0

    async def __call__(self, item: Inbound) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise RuntimeError("store unavailable")
        self.items.append(item)
        self._changed.set()

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[Inbound]:
        async with asyncio.timeout(timeout):
            while len(self.items) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.items


def session_config(port: int, **overrides: Any) -> SessionConfig:
    base = SessionConfig(
        host="127.0.0.1",
        port=port,
        system_id="motcua",
        password="secret",
        response_timeout=5.0,
        reconnect_min=0.05,
        reconnect_max=0.2,
        shutdown_timeout=5.0,
    )
    return dataclasses.replace(base, **overrides)


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


async def eventually(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until `predicate()` holds; fail the test with a timeout otherwise."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)
