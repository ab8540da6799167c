"""An export is built off the event loop: the other users of the console are served
while a large workbook is written."""

from __future__ import annotations

import asyncio

from tests.support.console import client, log_in
from tests.support.slow_figures import PERIOD, ManyFailed, console_over


async def test_an_xlsx_export_does_not_stall_every_other_user_of_the_console():
    # 100,000 failed notices (a province's year has 700,000): built on the event loop, the
    # workbook would hold back the stylesheet another user asks for meanwhile until the
    # export was done; built on a thread, the stylesheet is served while it is written.
    console = console_over(ManyFailed(100_000))
    async with console as url, client(url) as exporter, client(url) as other:
        await log_in(exporter)
        export = asyncio.create_task(exporter.get(f"/xuat/thong-bao-loi.xlsx?{PERIOD}"))
        served_beside = 0
        while not export.done():  # the other user's requests, beside the export
            async with other.get("/static/console.css") as answer:
                await answer.read()
            served_beside += not export.done()
            await asyncio.sleep(0.05)
        answer = await export
        assert answer.status == 200
        answer.release()
    # Several answered while the export was still being written, not one after it.
    assert served_beside >= 3
