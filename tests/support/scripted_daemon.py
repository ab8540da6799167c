"""The daemon as a subprocess against the scriptable SMSC (tests/smpp/scripted_smsc.py).

`tests.support.burst.Burst` drives the bundled simulator with thousands of jobs; this drives
a few jobs against a carrier scripted to misbehave, and reads what each job ended as from
the status topics.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

from tests.support.broker import free_port
from tests.support.daemon import (
    StatusWatch,
    http_get,
    publish,
    start_daemon,
    stop_daemon,
    write_daemon_config,
)
from tests.support.wait import eventually

Job = tuple[str, dict[str, Any]]


def job(n: int, text: str | None = None) -> Job:
    return (
        "motcua/SCT/sms",
        {"id": f"job-{n}", "to": f"09{n:08d}", "text": text or f"Thong bao {n}"},
    )


def _set_lines(text: str, section: str, lines: str) -> str:
    """Each `  key: value` of `lines` replaces that key in `section`, or is added to it."""
    out = text.splitlines(keepends=True)
    start = out.index(f"{section}:\n")
    for line in lines.splitlines(keepends=True):
        key = line.split(":")[0] + ":"
        end = next((i for i in range(start + 1, len(out)) if not out[i].startswith(" ")), len(out))
        hit = [i for i in range(start + 1, end) if out[i].startswith(key)]
        if hit:
            out[hit[0]] = line
        else:
            out.insert(end, line)
    return "".join(out)


class ScriptedDaemon:
    """`async with ScriptedDaemon(...) as d:` runs `motcua-sms run` until the block ends.

    `smpp` and `retry` are indented `key: value` lines that replace or add to those
    sections of the rig's configuration.
    """

    def __init__(
        self,
        broker_port: int,
        smsc_port: int,
        tmp_path: Path,
        *,
        smpp: str = "",
        retry: str = "",
        window: int = 10,
    ) -> None:
        self.broker_port = broker_port
        self.config = tmp_path / "gateway.yaml"
        self.db = tmp_path / "gateway.db"
        self.watch = StatusWatch(broker_port)
        self.admin_port = free_port()
        write_daemon_config(
            self.config, admin_port=self.admin_port, window=window, broker_port=broker_port,
            smsc_port=smsc_port, db=self.db,
        )  # fmt: skip
        text = self.config.read_text(encoding="utf-8")
        text = _set_lines(_set_lines(text, "smpp", smpp), "retry", retry)
        self.config.write_text(text, encoding="utf-8")
        self.proc: Any = None

    async def __aenter__(self) -> ScriptedDaemon:
        await self.watch.__aenter__()
        self.proc = await start_daemon(self.config)
        await self._until_connected()
        return self

    async def _until_connected(self, timeout: float = 20) -> None:
        """Until the daemon reports its broker session up (its /healthz), whatever the
        SMSC is doing: a job published before it subscribes is not queued for it."""

        async def connected() -> bool:
            with contextlib.suppress(OSError, ValueError, IndexError):
                _status, body = await http_get(self.admin_port, "/healthz")
                return json.loads(body).get("broker") == "connected"
            return False

        await eventually(connected, timeout, poll=0.05)
        await asyncio.sleep(0.5)  # subscribed, as tests.support.burst waits

    async def __aexit__(self, *exc: Any) -> None:
        if self.proc is not None and self.proc.returncode is None:
            await stop_daemon(self.proc)
        await self.watch.__aexit__(*exc)

    async def publish(self, items: list[Job]) -> None:
        await publish(self.broker_port, items)

    def finals(self) -> dict[str, list[str]]:
        """Each job's states past `queued`/`submitted`, in the order published."""
        out: dict[str, list[str]] = {}
        for e in self.watch.events:
            if e["state"] not in ("queued", "submitted"):
                out.setdefault(e["id"], []).append(e["state"])
        return out

    async def wait_final(self, ids: list[str], timeout: float) -> dict[str, list[str]]:
        with contextlib.suppress(TimeoutError):
            await self.watch.wait_for(lambda _ev: set(ids) <= set(self.finals()), timeout=timeout)
        return self.finals()
