"""Receipt expiry per link in the daemon (a subprocess) while one carrier stays down."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from gateway.smpp.sim import Rule, SimConfig, SmscSimulator
from tests.support.daemon import StatusWatch, publish, start_daemon, stop_daemon
from tests.support.wait import eventually


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(path: Path, broker_port: int, viettel: int, vnpt: int, admin: int) -> None:
    link = """    host: 127.0.0.1
    password: secret
    window: 10
    response_timeout: 2
    reconnect_min: 0.05
    reconnect_max: 0.5
    failover_after: 0.5
    receipt_timeout: 2
"""
    path.write_text(
        f"""
smsc:
  - id: viettel
    port: {viettel}
{link}    routes:
      - carrier: viettel
  - id: vnpt
    port: {vnpt}
{link}    routes:
      - default: true
mqtt:
  port: {broker_port}
  client_id: daemon-{path.parent.name}
store:
  path: {path.parent / "gateway.db"}
schedule:
  quiet_hours: "off"
retry:
  base_delay: 0.1
  max_delay: 0.5
admin:
  port: {admin}
agencies:
  SCT:
    name: Sở Công Thương
""",
        encoding="utf-8",
    )


@pytest.mark.parametrize("viettel_up", [False, True], ids=["viettel_down", "control_both_up"])
async def test_a_live_links_message_without_a_receipt_expires_while_another_link_is_down(
    broker, tmp_path, viettel_up
):
    """Viettel's SMSC is unreachable for long (hours, in the field); VNPT carries the
    traffic but never sends a receipt for one message: that message expires after VNPT's
    receipt_timeout, as it does with both links up (the control): the receipt-expiry
    pause is per link, judged by that link's own bound state."""
    down = free_port()  # nothing listens: the Viettel host is unreachable
    admin = free_port()
    silent = SimConfig(receipt_delay=0.01, rules=(Rule("*", "no_receipt"),))
    async with (
        SmscSimulator(silent) as vnpt,
        SmscSimulator(SimConfig()) as viettel,
        StatusWatch(broker.port) as watch,
    ):
        if viettel_up:
            down = viettel.port
        config = tmp_path / "gateway.yaml"
        write_config(config, broker.port, down, vnpt.port, admin)
        daemon = await start_daemon(config)
        try:
            await eventually(lambda: vnpt.sessions == 1, timeout=20)
            await asyncio.sleep(1.0)
            await publish(
                broker.port,
                [("motcua/SCT/sms", {"id": "job-1", "to": "0912345678", "text": "Thong bao"})],
            )
            await eventually(lambda: vnpt.stats.submits >= 1, timeout=20)
            events = await watch.wait_for(
                lambda ev: any(e["state"] == "expired" for e in ev), timeout=20
            )
        finally:
            await stop_daemon(daemon)
    assert any(e["id"] == "job-1" and e["state"] == "expired" for e in events)
