"""`motcua-sms console -c FILE` as a process: what it refuses at start, and that it needs
none of the daemon's secrets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.store.store import Store
from tests.support.broker import free_port
from tests.support.channel_figures import seed_channels
from tests.support.clock import Clock, at
from tests.support.console import client, log_in
from tests.support.console_site import console_section, listening, start_console
from tests.support.daemon import run_refused, stop_daemon
from tests.support.wait import eventually

AGENCIES = "agencies:\n  SCT:\n    name: Sở Công Thương\n  STP:\n    name: Sở Tư pháp\n"


def write(tmp_path: Path, text: str) -> Path:
    config = tmp_path / "gateway.yaml"
    config.write_text(f"store:\n  path: {tmp_path / 'gateway.db'}\n{AGENCIES}{text}", "utf-8")
    return config


async def test_a_console_with_no_user_to_log_in_refuses_to_start_naming_the_key(tmp_path):
    async with Store.open(tmp_path / "gateway.db"):
        pass

    code, err = await run_refused(write(tmp_path, ""), command=("console",))

    assert code == 3
    assert any("console.users" in line and "console-password" in line for line in err)


async def test_a_console_without_a_store_refuses_to_start_naming_the_file(tmp_path):
    code, err = await run_refused(write(tmp_path, console_section(0)), command=("console",))

    assert code == 3
    assert any("gateway.db" in line and "no such file" in line for line in err)


async def test_the_console_starts_without_the_smsc_and_broker_password_files(tmp_path):
    async with Store.open(tmp_path / "gateway.db"):
        pass
    port = free_port()
    secrets = (
        "smpp:\n  password_file: /nonexistent/smpp-password\n"
        "mqtt:\n  password_file: /nonexistent/mqtt-password\n"
    )
    console = await start_console(write(tmp_path, secrets + console_section(port)))
    try:
        await eventually(lambda: listening(port, "/dang-nhap"), timeout=30, poll=0.1)
    finally:
        code = await stop_daemon(console)

    assert code == 0


@pytest.mark.slow  # a process of its own
async def test_the_console_prices_the_figures_at_the_report_sections_prices(tmp_path):
    clock = Clock(at(10))
    async with Store.open(tmp_path / "gateway.db", clock=clock) as store:
        await seed_channels(store, clock)  # 1.001: one segment, one ZNS delivered
    port = free_port()
    prices = "report:\n  segment_price: 450\n  zns_price: 250\n"
    console = await start_console(write(tmp_path, prices + console_section(port)))
    try:
        await eventually(lambda: listening(port, "/dang-nhap"), timeout=30, poll=0.1)
        async with client(f"http://127.0.0.1:{port}") as session:
            await log_in(session)
            async with session.get("/thu-tuc?from=2026-11-23&to=2026-11-23") as answer:
                body = await answer.text()
    finally:
        code = await stop_daemon(console)

    assert code == 0
    costs = [
        dict(re.findall(r'data-key="(\w*cost_vnd)">([^<]*)<', row))
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
        if 'data-key="procedure_code">1.001<' in row
    ]
    assert costs == [{"cost_vnd": "450", "zalo_cost_vnd": "250", "total_cost_vnd": "700"}]
