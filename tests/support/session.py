"""An SMPP session against the bundled simulator: its settings, and what it delivers.

The fixtures that start the simulator and bind a session are in tests/smpp/conftest.py;
tests that wire their own session (the outbox, the MO path) build its settings here.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from gateway.smpp.inbound import Inbound
from gateway.smpp.session import SessionConfig


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
    """Settings for a session to the simulator on `port`: short time-outs and back-off."""
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


async def ignore(_item: object) -> None:
    """A session's deliver handler for tests that look only at what is sent."""
    return None
