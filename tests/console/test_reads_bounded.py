"""The console's store reads are bounded per process: so many at once, so many queued,
503 beyond; a client gone never starts its read; deep pages are refused before reading."""

from __future__ import annotations

import asyncio
import contextlib

from tests.support.console import STP_USER, client, log_in
from tests.support.slow_figures import PERIOD, ManyFailed, console_over
from tests.support.wait import eventually


async def _hang_up(session, path: str, after: float = 0.2) -> None:
    with contextlib.suppress(Exception):
        async with asyncio.timeout(after):
            async with session.get(path) as answer:
                await answer.read()


async def test_reads_in_flight_stay_bounded_when_clients_hang_up():
    # An agency user asks for a page (seconds of SQL on a province's year) and hangs up
    # at once, over and over: reads must not pile up, one thread each.
    figures = ManyFailed(0, delay=3.0)
    async with console_over(figures) as url, client(url) as session:
        await log_in(session, user=STP_USER.name)
        for _ in range(4):
            path = f"/thong-bao-loi?{PERIOD}&page=2"
            await asyncio.gather(*(_hang_up(session, path) for _ in range(25)))
        most = figures.most_in_flight
    assert 1 <= most <= 2, f"{most} store reads at once for one user's hung-up requests"


async def test_no_more_reads_run_at_once_than_reads_at_once_on_first_pages():
    figures = ManyFailed(0, delay=1.0)
    gated = console_over(figures, reads_at_once=2, reads_queued=100)
    async with gated as url, client(url) as session:
        await log_in(session)
        path = f"/thong-bao-loi?{PERIOD}"
        await asyncio.gather(*(_hang_up(session, path, after=0.3) for _ in range(25)))
        await eventually(lambda: figures.in_flight == 0, timeout=10, poll=0.05)
    assert 1 <= figures.most_in_flight <= 2


async def test_a_read_past_the_queue_is_503_saying_the_console_is_busy():
    figures = ManyFailed(0, delay=1.0)
    gated = console_over(figures, reads_at_once=1, reads_queued=1)
    async with gated as url, client(url) as session:
        await log_in(session)

        async def page() -> tuple[int, str]:
            async with session.get(f"/thong-bao-loi?{PERIOD}") as answer:
                return answer.status, await answer.text()

        answers = await asyncio.gather(*(page() for _ in range(4)))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200, 200, 503, 503]
    assert all("bận" in text for status, text in answers if status == 503)


async def test_a_request_whose_client_left_while_it_waited_never_starts_its_read():
    figures = ManyFailed(0, delay=1.0)
    gated = console_over(figures, reads_at_once=1, reads_queued=10)
    async with gated as url, client(url) as holder, client(url) as leaver:
        await log_in(holder)
        await log_in(leaver)
        first = asyncio.create_task(holder.get(f"/thong-bao-loi?{PERIOD}"))
        await eventually(lambda: figures.started == 1, timeout=5, poll=0.01)
        await _hang_up(leaver, f"/thong-bao-loi?{PERIOD}", after=0.2)
        (await first).release()
        # Queued behind the slot: a read left queued for the leaver would start first.
        async with holder.get(f"/thong-bao-loi?{PERIOD}") as answer:
            assert answer.status == 200
    assert figures.started == 2


async def test_a_page_deeper_than_the_cap_is_400_naming_how_to_narrow_it_unread():
    figures = ManyFailed(0)
    async with console_over(figures) as url, client(url) as session:
        await log_in(session)
        async with session.get(f"/thong-bao-loi?{PERIOD}&page=51") as answer:
            status, text = answer.status, await answer.text()
    assert status == 400
    assert "thu hẹp khoảng ngày" in text
    assert figures.started == 0
