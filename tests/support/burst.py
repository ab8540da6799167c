"""A daemon subprocess under fire: real mosquitto, the bundled simulator, a few thousand jobs.

Every fault test ends with the same three checks: every accepted message reached
`delivered`, none was lost, and the SMSC saw at most `window` duplicates per broken
session (the rigs bind one; a link of `binds: N` may duplicate N x `window` a break).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import aiomqtt

from gateway.smpp.sim import SmscSimulator
from tests.support.broker import free_port
from tests.support.daemon import (
    StatusWatch,
    http_get,
    log_events,
    publish,
    start_daemon,
    stop_daemon,
    write_daemon_config,
)
from tests.support.wait import eventually

WINDOW = 10


def jobs(count: int, start: int = 0) -> list[tuple[str, dict]]:
    return [
        ("motcua/SCT/sms", {"id": f"job-{n}", "to": f"09{n:08d}", "text": f"Thong bao {n}"})
        for n in range(start, start + count)
    ]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class Burst:
    def __init__(
        self,
        broker_port: int,  # where the agencies publish and the statuses are watched
        smsc: SmscSimulator,
        tmp_path: Path,
        count: int,
        *,
        db: Path | None = None,
        daemon_broker_port: int | None = None,
        mqtt_extra: str = "",
        smpp: str = "",
    ) -> None:
        self.broker_port = broker_port
        self.smsc = smsc
        self.count = count
        self.config = tmp_path / "gateway.yaml"
        self.db = db or tmp_path / "gateway.db"
        self.daemon: asyncio.subprocess.Process | None = None
        self.watch = StatusWatch(broker_port)
        self.admin_port = free_port()
        write_daemon_config(
            self.config,
            admin_port=self.admin_port,
            window=WINDOW,
            broker_port=daemon_broker_port or broker_port,
            smsc_port=smsc.port,
            db=self.db,
            mqtt_extra=mqtt_extra,
            smpp=smpp,
        )

    async def __aenter__(self) -> Burst:
        await self.watch.__aenter__()
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
        with contextlib.suppress(aiomqtt.MqttError):  # the broker may have been killed
            await self.watch.__aexit__(*exc)

    async def start(self) -> None:
        binds = self.smsc.stats.binds
        self.daemon = await start_daemon(self.config)
        await eventually(lambda: self.smsc.stats.binds > binds, timeout=20)
        await asyncio.sleep(0.5)  # subscribed

    async def stop(self) -> None:
        if self.daemon is not None:
            await stop_daemon(self.daemon)

    async def publish(self, start: int = 0, count: int | None = None) -> None:
        await publish(self.broker_port, jobs(self.count if count is None else count, start))

    def log_events(self) -> Counter[str]:
        """How often each event name appears in the daemon's JSON log so far."""
        return log_events(self.config)

    async def health(self) -> dict[str, Any]:
        _status, body = await http_get(self.admin_port, "/healthz")
        return json.loads(body)

    async def until_healthy(self, timeout: float = 30) -> None:
        """Until the daemon reports itself bound and connected (its /healthz)."""

        async def healthy() -> bool:
            return (await self.health())["status"] == "ok"

        await eventually(healthy, timeout, poll=0.05)

    async def submitted_at_least(self, n: int, timeout: float = 60) -> None:
        await eventually(lambda: self.smsc.stats.submits >= n, timeout, poll=0.005)

    async def all_delivered(self, timeout: float = 120) -> set[str]:
        events = await self.watch.wait_for(
            lambda ev: len({e["id"] for e in ev if e["state"] == "delivered"}) >= self.count,
            timeout=timeout,
        )
        return {e["id"] for e in events if e["state"] == "delivered"}

    async def all_delivered_in_store(self, timeout: float = 120) -> set[str]:
        """The daemon's own record, for faults that also lose status events in transit (a
        broker killed before it delivered them): every job delivered, every status out."""
        delivered: set[str] = set()

        async def all_out() -> bool:
            nonlocal delivered
            states, unpublished = await asyncio.to_thread(self._stored)
            delivered = {ref for ref, state in states.items() if state == "delivered"}
            return len(delivered) >= self.count and unpublished == 0

        await eventually(all_out, timeout, poll=0.2)
        return delivered

    async def all_held_unpublished(self, timeout: float = 120) -> None:
        """Until every job is delivered per the store while all three statuses of each
        (queued, submitted, delivered) still wait in the outbox: the broker refuses them."""

        async def all_held() -> bool:
            states, unpublished = await asyncio.to_thread(self._stored)
            done = sum(state == "delivered" for state in states.values())
            return done == self.count and unpublished >= 3 * self.count

        await eventually(all_held, timeout, poll=0.2)

    async def all_final(
        self, finals: tuple[str, ...] = ("delivered", "expired"), timeout: float = 60
    ) -> dict[str, dict[str, Any]]:
        """Until every job has a status in `finals`; the last such status of each, by id."""
        events = await self.watch.wait_for(
            lambda ev: len({e["id"] for e in ev if e["state"] in finals}) >= self.count,
            timeout=timeout,
        )
        return {e["id"]: e for e in events if e["state"] in finals}

    def _stored(self) -> tuple[dict[str, str], int]:
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5) as db:
            states = dict(db.execute("SELECT ref, state FROM messages WHERE kind = 'sms'"))
            (unpublished,) = db.execute("SELECT count(*) FROM status_out").fetchone()
        return states, unpublished

    def check(self, delivered: set[str], *, interruptions: int = 1) -> int:
        """Nothing lost; duplicates at most a window per interruption. Returns them."""
        return check_delivered(self.smsc, self.count, delivered, interruptions=interruptions)


def check_delivered(
    smsc: SmscSimulator, count: int, delivered: set[str], *, interruptions: int = 1
) -> int:
    """Every one of the `count` jobs delivered and accepted by `smsc`, and duplicates at
    most a window per interruption (the submits in flight when a link broke: sent, maybe
    accepted, unanswered). Returns them."""
    assert delivered == {f"job-{n}" for n in range(count)}
    per_number = Counter(r.destination for r in smsc.records if r.status == 0)
    assert len(per_number) == count
    duplicates = sum(n - 1 for n in per_number.values())
    bound = WINDOW * max(1, interruptions)
    assert duplicates <= bound, f"{duplicates} duplicates > {bound} ({interruptions} breaks)"
    return duplicates


__all__ = ["WINDOW", "Burst", "check_delivered", "jobs", "rss_kb"]
