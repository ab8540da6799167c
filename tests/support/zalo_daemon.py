"""The daemon as a subprocess on Zalo with SMS fallback, for the fault tests: its
configuration file with a `zalo:` section pointing at the bundled Zalo simulator, the
bundled SMSC, a status watch on a real mosquitto, and what each side recorded.

    async with zalo_daemon(broker, tmp_path, fallback_after=3) as rig:
        refs = await rig.notices([DELIVERED, NEVER])
        rig.kill(); await rig.start()
        ...
        rig.sms_to(NEVER), rig.zns_per_tracking(), rig.trail(ref)

SCT is on `[zalo, sms]` unless `on_zalo=False`; quiet hours are off (the rig's daemon
config), so the tests pass at any hour.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.smpp.sim import SimConfig, SmscSimulator
from gateway.zalo.sim import OA_MESSAGE_PATH, OAUTH_PATH, ZNS_PATH
from tests.support.broker import free_port
from tests.support.daemon import (
    StatusWatch,
    dossier_event,
    log_events,
    publish,
    start_daemon,
    stop_daemon,
    write_daemon_config,
)
from tests.support.wait import eventually
from tests.support.zalo import RESULT_TEMPLATE, ZaloRig, zalo_rig

ON_ZALO = "  SCT:\n    name: Sở Công Thương\n    channels: [zalo, sms]\n"
ON_SMS = "  SCT:\n    name: Sở Công Thương\n"


def national(international: str) -> str:
    """`84905000001` as an agency's software writes it: `0905000001`."""
    return "0" + international[2:]


def zalo_section(zalo: ZaloRig, *, webhook_port: int, fallback_after: float) -> str:
    """The `zalo:` section of a daemon that talks to `zalo`'s simulator."""
    sim, base = zalo.sim.config, zalo.sim.base_url
    params = "".join(f'        {k}: "{v}"\n' for k, v in RESULT_TEMPLATE.params.items())
    return (
        "zalo:\n"
        f'  app_id: "{sim.app_id}"\n'
        f'  oa_id: "{sim.oa_id}"\n'
        f"  secret_key: {sim.secret_key}\n"
        f"  oa_secret_key: {sim.oa_secret_key}\n"
        f"  refresh_token_file: {zalo.token_file}\n"
        f"  oauth_url: {base}{OAUTH_PATH}\n"
        f"  zns_url: {base}{ZNS_PATH}\n"
        f"  oa_message_url: {base}{OA_MESSAGE_PATH}\n"
        f"  fallback_after: {fallback_after}\n"
        "  timeout: 1\n"
        f"  webhook: {{host: 127.0.0.1, port: {webhook_port}}}\n"
        "  templates:\n"
        "    result:\n"
        f'      template_id: "{RESULT_TEMPLATE.template_id}"\n'
        "      params:\n"
        f"{params}"
    )


@dataclass
class ZaloDaemon:
    zalo: ZaloRig
    smsc: SmscSimulator
    watch: StatusWatch
    broker_port: int
    tmp_path: Path
    webhook_port: int
    fallback_after: float
    daemon: asyncio.subprocess.Process | None = None

    def configure(self, *, on_zalo: bool = True) -> None:
        """(Re)write the daemon's configuration: with the `zalo:` section and SCT on
        `[zalo, sms]`, or with neither (Zalo off)."""
        section = zalo_section(
            self.zalo, webhook_port=self.webhook_port, fallback_after=self.fallback_after
        )
        write_daemon_config(
            self.config, broker_port=self.broker_port, smsc_port=self.smsc.port,
            db=self.tmp_path / "gateway.db", agencies=ON_ZALO if on_zalo else ON_SMS,
            sections=section if on_zalo else "",
        )  # fmt: skip

    @property
    def config(self) -> Path:
        return self.tmp_path / "gateway.yaml"

    async def start(self) -> None:
        """Start the daemon; back once it is bound to the SMSC and subscribed."""
        binds = self.smsc.stats.binds
        self.daemon = await start_daemon(self.config)
        await eventually(lambda: self.smsc.stats.binds > binds, timeout=20)
        await asyncio.sleep(0.5)  # subscribed

    async def kill(self) -> None:
        """SIGKILL: no clean-up, no last write."""
        assert self.daemon is not None
        self.daemon.send_signal(signal.SIGKILL)
        await self.daemon.wait()

    async def stop(self) -> None:
        if self.daemon is not None:
            await stop_daemon(self.daemon)

    async def notices(self, phones: Sequence[str], start: int = 0) -> list[str]:
        """A result_ready event to each number in `phones`; the refs of their notices."""
        events = [dossier_event(start + n, phone=national(phone)) for n, phone in enumerate(phones)]
        await publish(self.broker_port, [("motcua/SCT/dossier", e) for e in events])
        return [f"{e['event_id']}:result" for e in events]

    async def rule(self, phone: str, rule: str) -> None:
        status, _ = await self.zalo.control("POST", "/rules", {"phone": phone, "rule": rule})
        assert status == 200

    def events(self, ref: str) -> list[dict[str, Any]]:
        """The statuses `ref` published, in order, each once: a daemon killed between
        publishing a status and marking it published publishes it again on restart (the
        same payload: at least once, never a different story)."""
        seen: list[dict[str, Any]] = []
        for event in self.watch.events:
            if event["id"] == ref and event not in seen:
                seen.append(event)
        return seen

    def trail(self, ref: str) -> list[tuple[str, str | None]]:
        """(state, channel) of each status `ref` published, in order."""
        return [(e["state"], e.get("channel")) for e in self.events(ref)]

    async def reach(self, refs: Sequence[str], state: str, timeout: float = 30) -> None:
        """Until every one of `refs` has published `state`."""
        wanted = set(refs)
        await self.watch.wait_for(
            lambda ev: wanted <= {e["id"] for e in ev if e["state"] == state}, timeout
        )

    def sms_to(self, phone: str) -> int:
        """SMS the SMSC accepted for `phone`."""
        return sum(1 for r in self.smsc.records if r.destination == phone and r.status == 0)

    def sms_per_number(self) -> Counter[str]:
        return Counter(r.destination for r in self.smsc.records if r.status == 0)

    def log_events(self) -> Counter[str]:
        """How often each event name appears in the daemon's logs so far."""
        return log_events(self.config)

    def zns_per_tracking(self) -> Counter[str | None]:
        """ZNS notices Zalo accepted, by our tracking id."""
        return Counter(m.tracking_id for m in self.zalo.sim.sent)


@contextlib.asynccontextmanager
async def zalo_daemon(
    broker_port: int, tmp_path: Path, *, fallback_after: float, start: bool = True
) -> AsyncIterator[ZaloDaemon]:
    """The Zalo simulator (webhooks to the daemon), the SMSC, a status watch, and the
    daemon on Zalo, started unless `start=False`; the daemon is stopped on exit."""
    webhook_port = free_port()
    url = f"http://127.0.0.1:{webhook_port}/zalo/webhook"
    async with (
        zalo_rig(tmp_path, webhook_url=url, templates={RESULT_TEMPLATE.template_id: True}) as zr,
        SmscSimulator(SimConfig(receipt_delay=0.01, keep_records=True)) as smsc,
        StatusWatch(broker_port) as watch,
    ):
        rig = ZaloDaemon(zr, smsc, watch, broker_port, tmp_path, webhook_port, fallback_after)
        rig.configure()
        if start:
            await rig.start()
        try:
            yield rig
        finally:
            await rig.stop()


__all__ = ["ON_SMS", "ON_ZALO", "ZaloDaemon", "national", "zalo_daemon", "zalo_section"]
