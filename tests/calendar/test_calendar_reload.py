"""The working-day calendar reloaded by a running daemon on SIGHUP."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from gateway.smpp.sim import SimConfig, SmscSimulator
from tests.support.daemon import DAEMON_LOGS, start_daemon, stop_daemon, write_daemon_config
from tests.support.wait import eventually


def daemon_events(config: Path) -> list[dict]:
    """The JSON log events of the daemon started with `config` (see start_daemon)."""
    events = []
    for log in DAEMON_LOGS.glob(f"{config.parent.name}-*.log"):
        for line in log.read_text(encoding="utf-8").splitlines():
            if line.startswith("{"):
                events.append(json.loads(line))
    return events


async def test_sighup_reloads_the_local_days_off_and_working_days(broker, tmp_path):
    """The daemon takes the new lists without a restart, and says nothing needs one."""
    async with SmscSimulator(SimConfig(receipt_delay=0.01)) as smsc:
        config = tmp_path / "gateway.yaml"
        write_daemon_config(
            config, broker_port=broker.port, smsc_port=smsc.port, db=tmp_path / "g.db"
        )
        daemon = await start_daemon(config)
        try:
            await eventually(lambda: smsc.stats.binds >= 1, timeout=15)
            await eventually(
                lambda: any(e["event"] == "gateway_started" for e in daemon_events(config)),
                timeout=15,
            )
            text = config.read_text(encoding="utf-8")
            assert '  quiet_hours: "off"\n' in text
            config.write_text(
                text.replace(
                    '  quiet_hours: "off"\n',
                    '  quiet_hours: "off"\n  holidays: ["2026-11-20"]\n'
                    '  working_days: ["2026-01-10"]\n',
                ),
                encoding="utf-8",
            )
            daemon.send_signal(signal.SIGHUP)
            await eventually(
                lambda: any(e["event"] == "reload_done" for e in daemon_events(config)),
                timeout=15,
            )
        finally:
            await stop_daemon(daemon)

    events = daemon_events(config)
    (reloaded,) = [e for e in events if e["event"] == "calendar_reloaded"]
    assert (reloaded["holidays"], reloaded["working_days"]) == (["2026-11-20"], ["2026-01-10"])
    assert not [e for e in events if e["event"] == "reload_needs_restart"]
    assert smsc.stats.binds == 1
