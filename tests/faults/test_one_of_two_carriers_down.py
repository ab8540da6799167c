"""One of two carriers down for 10 s mid-burst: the daemon (a subprocess, two `smsc:`
links to two simulators) sends every message, the down carrier's through the other link,
with at most the down link's window of duplicates for the break (its sessions' windows
added up: `binds` × `window`; one session here)."""

from __future__ import annotations

import asyncio
from collections import Counter

from gateway.smpp.codes import Status
from gateway.smpp.sim import SimConfig, SmscSimulator
from tests.support.daemon import StatusWatch, publish, start_daemon, stop_daemon
from tests.support.links import write_two_carrier_config
from tests.support.wait import eventually

COUNT = 600
WINDOW = 10
BINDS = 1  # the viettel link's sessions: a break duplicates up to BINDS x WINDOW
DOWN_FOR = 10.0


def jobs() -> list[tuple[str, dict]]:
    """Half to Viettel ranges (098…), half to Vinaphone ranges (091…)."""
    return [
        (
            "motcua/SCT/sms",
            {"id": f"job-{n}", "to": f"09{8 if n % 2 else 1}{n:07d}", "text": f"Thong bao {n}"},
        )
        for n in range(COUNT)
    ]


# The keys both links share.
LINK = f"""    host: 127.0.0.1
    password: secret
    window: {WINDOW}
    tps: 40
    response_timeout: 2
    reconnect_min: 0.05
    reconnect_max: 0.5
    failover_after: 0.5
"""


async def test_one_of_two_carriers_down_for_10_s_mid_burst(broker, tmp_path):
    async with (
        SmscSimulator(SimConfig(receipt_delay=0.05)) as viettel,
        SmscSimulator(SimConfig(receipt_delay=0.05)) as vnpt,
        StatusWatch(broker.port) as watch,
    ):
        config = tmp_path / "gateway.yaml"
        write_two_carrier_config(config, broker.port, viettel.port, vnpt.port, link=LINK)
        daemon = await start_daemon(config)
        try:
            await eventually(lambda: viettel.sessions == 1 and vnpt.sessions == 1, timeout=20)
            await asyncio.sleep(0.5)  # subscribed
            await publish(broker.port, jobs())
            await eventually(lambda: viettel.stats.submits >= 50, timeout=30, poll=0.005)
            # Down: every session dropped, and binds answered "system error" (not a
            # credentials refusal, which the gateway rightly waits minutes after).
            viettel.refuse_binds = Status.ESME_RSYSERR
            dropped = viettel.drop_all()
            await asyncio.sleep(DOWN_FOR)
            viettel.refuse_binds = None
            events = await watch.wait_for(
                lambda ev: len({e["id"] for e in ev if e["state"] == "delivered"}) >= COUNT,
                timeout=120,
            )
        finally:
            await stop_daemon(daemon)

    delivered = {e["id"]: e.get("link") for e in events if e["state"] == "delivered"}
    assert set(delivered) == {f"job-{n}" for n in range(COUNT)}
    assert dropped == 1
    # The down carrier's numbers went by the other link while it was away.
    viettel_numbers_by_vnpt = {
        r.destination for r in vnpt.records if r.status == 0 and r.destination.startswith("8498")
    }
    assert viettel_numbers_by_vnpt
    assert Counter(delivered.values())["vnpt"] > COUNT // 2
    accepted = Counter(
        r.destination for sim in (viettel, vnpt) for r in sim.records if r.status == 0
    )
    assert len(accepted) == COUNT
    duplicates = sum(n - 1 for n in accepted.values())
    assert duplicates <= BINDS * WINDOW, f"{duplicates} duplicates for one break"
