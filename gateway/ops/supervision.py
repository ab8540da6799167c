"""The daemon's parts under supervision: a part that fails starts again after a pause.

A failed part (a store refusing writes, a bug) is logged and started again rather than
take the daemon down with it; the pauses grow (the one back-off, `gateway.backoff`) up to
a longest pause of the part's own: most parts wait up to `RESTART_MAX`, but the store
heartbeat must beat again well within the lease once the store is back, or the other
daemons judge this one dead and take its work (`heartbeat_pause`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

from gateway.backoff import Backoff

log = structlog.get_logger("gateway.app")

# Pause before a failed part starts again, doubling up to the maximum, seconds.
RESTART_MIN = 0.5
RESTART_MAX = 30.0


def heartbeat_pause(beat_every: float) -> float:
    """The longest pause before a failed store heartbeat starts again: half the interval
    between two beats (a sixth of the lease). A heartbeat that failed while the store was
    away beats again within that once the store is back, so the lease, three beats long,
    never runs out on a daemon that is working."""
    return beat_every / 2


def supervised(
    name: str,
    run: Callable[[], Awaitable[None]],
    *,
    longest: float = RESTART_MAX,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> asyncio.Task[None]:
    """Run a part until it returns or is cancelled; if it fails, log it and start it again
    after a pause, doubling from `RESTART_MIN` up to `longest` seconds."""

    async def loop() -> None:
        restarts = Backoff(min(RESTART_MIN, longest), longest, jitter=False)
        failures = 0
        while True:
            started = asyncio.get_running_loop().time()
            try:
                await run()
                return
            except Exception:
                # A part that ran longer than the longest pause starts from the shortest.
                if asyncio.get_running_loop().time() - started > longest:
                    failures = 0
                delay = restarts.delay(failures)
                failures += 1
                log.exception("gateway_part_failed", part=name, restart_in=delay)
            await sleep(delay)

    return asyncio.create_task(loop(), name=name)


async def cancel(task: asyncio.Task[object]) -> None:
    """Cancel a part and wait for it to end. Its own cancellation is what was asked for,
    and its failure was logged when it happened; anything else (our own cancellation,
    SystemExit, KeyboardInterrupt) goes on up."""
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
    except Exception:
        log.debug("gateway_part_ended_with_error", part=task.get_name())
