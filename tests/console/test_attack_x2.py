"""Attacks on the console (session x2): each test names the correct behaviour and fails now.

Most use a console over a synthetic `FigureReads` (the pages read nothing else), so the
large cases cost no store to build.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import date, datetime

from gateway.console.app import server
from gateway.console.context import Console, local_path
from gateway.settings.console import ConsoleConfig
from gateway.store.figures import FailedNotice, FigureRow
from tests.support.clock import Clock, at
from tests.support.console import (
    NAMES,
    PASSWORD,
    STP_USER,
    TZ,
    USERS,
    client,
    log_in,
    login_token,
    running_console,
)

PERIOD = "from=2026-11-01&to=2026-11-23"


class ManyFailed:
    """`total` failed notices of SCT; `delay` seconds of "SQL" per read, counted."""

    def __init__(self, total: int, delay: float = 0.0) -> None:
        self.total = total
        self.delay = delay
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
                ref=f"ev-{n}", agency="SCT", procedure_code="1.001",
                procedure_name="Cấp giấy phép kinh doanh hóa chất", receipt_no=f"{n:010d}",
                masked_number="8490*****11", reason="undeliverable", state="undeliverable",
                at=at_,
            )  # fmt: skip
            for n in range(offset, end)
        ]


@contextlib.asynccontextmanager
async def console_over(figures: ManyFailed, **settings: object) -> AsyncIterator[str]:
    config = ConsoleConfig(port=0, users=USERS, **settings)  # type: ignore[arg-type]
    console = Console(config, figures, dict(NAMES), TZ, Clock(at(10)))  # type: ignore[arg-type]
    async with server(console, "127.0.0.1", 0) as listening:
        yield f"http://127.0.0.1:{listening.port}"


async def test_a_page_number_in_superscript_digits_is_a_400_not_a_500(tmp_path):
    async with running_console(tmp_path) as running, client(running.url) as session:
        await log_in(session)
        async with session.get(f"/thong-bao-loi?{PERIOD}&page=%C2%B2") as answer:
            status = answer.status
    assert status == 400
