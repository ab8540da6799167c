"""Run the daemon subprocess against an atk Smsc."""
from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from pathlib import Path

from tests.broker import free_port
from tests.gateway_rig import StatusWatch, publish, start_daemon, stop_daemon, write_daemon_config, DAEMON_LOGS


def job(n, text=None):
    return ("motcua/SCT/sms", {"id": f"job-{n}", "to": f"09{n:08d}", "text": text or f"Thong bao {n}"})


class Daemon:
    def __init__(self, broker_port, smsc_port, tmp_path: Path, *, smpp="", retry="", admin_port=None, window=10):
        self.broker_port = broker_port
        self.config = tmp_path / "gateway.yaml"
        self.db = tmp_path / "gateway.db"
        self.watch = StatusWatch(broker_port)
        self.admin_port = admin_port or free_port()
        write_daemon_config(self.config, admin_port=self.admin_port, window=window,
                            broker_port=broker_port, smsc_port=smsc_port, db=self.db)
        text = self.config.read_text()
        for line in smpp.splitlines(keepends=True):
            key = line.split(":")[0] + ":"
            lines = text.splitlines(keepends=True)
            hit = [i for i, l in enumerate(lines) if l.startswith(key)]
            if hit:
                lines[hit[0]] = line
            else:
                lines.insert(lines.index("mqtt:\n"), line)
            text = "".join(lines)
        self.config.write_text(text)
        if retry:
            t = self.config.read_text().replace("retry:\n", "retry:\n" + retry)
            self.config.write_text(t)
        self.proc = None

    async def __aenter__(self):
        await self.watch.__aenter__()
        self.proc = await start_daemon(self.config)
        return self

    async def __aexit__(self, *exc):
        if self.proc and self.proc.returncode is None:
            await stop_daemon(self.proc)
        await self.watch.__aexit__(*exc)

    async def publish(self, items):
        await publish(self.broker_port, items)

    def finals(self):
        out = {}
        for e in self.watch.events:
            if e["state"] not in ("queued", "submitted"):
                out.setdefault(e["id"], []).append(e["state"])
        return out

    async def wait_final(self, ids, timeout):
        with contextlib.suppress(TimeoutError):
            await self.watch.wait_for(lambda ev: set(ids) <= set(self.finals()), timeout=timeout)
        return self.finals()

    def log_events(self):
        events = Counter()
        lines = []
        for path in DAEMON_LOGS.glob(f"{self.config.parent.name}-*.log"):
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                with contextlib.suppress(ValueError, AttributeError):
                    d = json.loads(line)
                    events[d.get("event", "")] += 1
                    lines.append(d)
        return events, lines
