"""Receipt expiry per link in the daemon (a subprocess) while one carrier stays down."""

from __future__ import annotations

import asyncio

import pytest

from gateway.smpp.sim import Rule, SimConfig, SmscSimulator
from tests.support.broker import free_port
from tests.support.daemon import StatusWatch, publish, start_daemon, stop_daemon
from tests.support.links import write_two_carrier_config
from tests.support.wait import eventually

# The keys both links share.
LINK = """    host: 127.0.0.1
    password: secret
    window: 10
    response_timeout: 2
    reconnect_min: 0.05
    reconnect_max: 0.5
    failover_after: 0.5
    receipt_timeout: 2
"""


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
        write_two_carrier_config(config, broker.port, down, vnpt.port, link=LINK, admin=admin)
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
