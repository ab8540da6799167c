"""The Host a request names must be this console's: a name rebound elsewhere to this
address (DNS rebinding) is refused with 400 before any page or login."""

from __future__ import annotations

import pytest

from tests.support.console import client, log_in, running_console

DAY = "from=2026-11-23&to=2026-11-23"


async def _status(running, host: str, path: str = "/dang-nhap") -> tuple[int, str]:
    async with client(running.url) as session, session.get(path, headers={"Host": host}) as a:
        return a.status, await a.text()


async def test_a_request_naming_another_host_is_400_in_vietnamese(tmp_path):
    async with running_console(tmp_path) as running:
        status, text = await _status(running, "evil.example")
    assert status == 400 and "console.host_names" in text


async def test_a_logged_in_page_asked_for_under_a_rebound_name_is_400_not_its_figures(tmp_path):
    async with running_console(tmp_path) as running, client(running.url) as session:
        await log_in(session)
        async with session.get(f"/?{DAY}", headers={"Host": "evil.example:9110"}) as answer:
            status, text = answer.status, await answer.text()
    assert status == 400 and "Sở Công Thương" not in text


@pytest.mark.parametrize("host", ["127.0.0.1:9110", "localhost:9110", "[::1]:9110", "10.1.2.3"])
async def test_an_ip_address_or_localhost_is_served(tmp_path, host):
    async with running_console(tmp_path) as running:
        status, _ = await _status(running, host)
    assert status == 200


async def test_a_configured_host_name_is_served_whatever_its_case(tmp_path):
    names = ("thongke.sotttt.gov.vn",)
    async with running_console(tmp_path, host_names=names) as running:
        status, _ = await _status(running, "ThongKe.SoTTTT.gov.vn")
    assert status == 200
