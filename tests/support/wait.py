"""The one bounded wait of the test suite.

A test that waits for something to happen (a submit at the simulator, a status on MQTT,
a state in the store) polls for it with `eventually`, never with a bare sleep, and never
for longer than its bound: a condition that does not come fails the test with a timeout
instead of holding the run until pytest-timeout ends it. The condition may be a plain
function or a coroutine function (a store read, an HTTP request to the daemon).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

# The default bound, in seconds: generous for local TCP and a local broker, short enough
# for a broken test to fail fast. Waits on a daemon's start-up or a burst pass their own.
WAIT = 5.0
# How often the condition is asked, by default: conditions are cheap attribute reads; a
# condition that costs a query or a request passes a longer `poll`.
POLL = 0.01


async def eventually(
    condition: Callable[[], bool | Awaitable[bool]],
    timeout: float = WAIT,
    *,
    poll: float = POLL,
) -> None:
    """Return once `condition()` holds; raise TimeoutError after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while True:
            held = condition()
            if inspect.isawaitable(held):
                held = await held
            if held:
                return
            await asyncio.sleep(poll)
