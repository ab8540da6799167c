"""A console over synthetic figures (`ManyFailed`): the pages read nothing but
`FigureReads`, so cases of a province's size (100,000 failed notices, reads of seconds)
cost no store to build."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import date, datetime

from gateway.console.app import server
from gateway.console.context import Console
from gateway.settings.console import ConsoleConfig
from gateway.store.figures import FailedNotice, FigureRow
from tests.support.clock import Clock, at
from tests.support.console import NAMES, TZ, USERS

PERIOD = "from=2026-11-01&to=2026-11-23"


class ManyFailed:
    """`total` failed notices of SCT; `delay` seconds of "SQL" per read, counted."""

    def __init__(self, total: int, delay: float = 0.0) -> None:
        self.total = total
        self.delay = delay
        self.started = 0
        self.in_flight = 0
        self.most_in_flight = 0

    async def table(
        self, since: date, until: date, by: Sequence[str], agencies: Collection[str] | None = None
    ) -> list[FigureRow]:
        return []

    async def failed(
        self,
        since: date,
        until: date,
        agencies: Collection[str] | None = None,
        limit: int = 500,
        offset: int = 0,
    ) -> list[FailedNotice]:
        self.started += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.delay:
                # A thread doing SQL is not cancelled with its request: neither is this.
                await asyncio.shield(asyncio.sleep(self.delay))
        finally:
            self.in_flight -= 1
        at_ = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)
        end = min(self.total, offset + limit)
        return [
            FailedNotice(
                ref=f"ev-{n}",
                agency="SCT",
                procedure_code="1.001",
                procedure_name="Cấp giấy phép kinh doanh hóa chất",
                receipt_no=f"{n:010d}",
                masked_number="8490*****11",
                reason="undeliverable",
                state="undeliverable",
                at=at_,
            )
            for n in range(offset, end)
        ]


@contextlib.asynccontextmanager
async def console_over(figures: ManyFailed, **settings: object) -> AsyncIterator[str]:
    """The console over `figures` on a free port (its URL), with `settings`."""
    config = ConsoleConfig(port=0, users=USERS, **settings)  # type: ignore[arg-type]
    console = Console(config, figures, dict(NAMES), TZ, Clock(at(10)))  # type: ignore[arg-type]
    async with server(console, "127.0.0.1", 0) as listening:
        yield f"http://127.0.0.1:{listening.port}"
