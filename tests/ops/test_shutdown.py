"""Shutdown ends each part and swallows only that part's own cancellation or failure."""

from __future__ import annotations

import asyncio

import pytest

from gateway.ops.supervision import cancel


class TestShutdown:
    async def test_cancelling_the_shutdown_itself_is_not_swallowed(self):
        """Before, `suppress(BaseException)` ate the caller's own cancellation too."""

        async def stubborn() -> None:
            while True:
                try:
                    await asyncio.sleep(10)
                except asyncio.CancelledError:
                    await asyncio.sleep(0.5)  # slow to stop
                    return

        part = asyncio.create_task(stubborn())
        await asyncio.sleep(0)
        shutdown = asyncio.create_task(cancel(part))
        await asyncio.sleep(0.05)
        shutdown.cancel()
        with pytest.raises(asyncio.CancelledError):
            await shutdown

    async def test_a_cancelled_part_and_a_failed_part_are_ended_quietly(self):
        async def failed() -> None:
            raise RuntimeError("logged when it happened")

        waiting = asyncio.create_task(asyncio.Event().wait())
        broken = asyncio.create_task(failed())
        await asyncio.sleep(0)
        await cancel(waiting)
        await cancel(broken)
        assert waiting.cancelled() and broken.done()
