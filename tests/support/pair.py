"""Two daemon subprocesses on one PostgreSQL store, one mosquitto and one simulator.

The deployment of README's "Two hosts" section on one machine: each daemon has its own
`daemon.name`, MQTT client id and admin port, and both have the same `store.url` and
`mqtt.shared_group`. Both bind the one simulator with the same account, as two hosts of a
province given one SMPP account do; each binds with its own `system_type` (its name), so
the simulator's records tell which daemon sent what and the receipts of either's messages
may arrive on the other's session.

The daemons may run with their wall clock moved (`clock_at`): libfaketime is preloaded
with an OFFSET (`FAKETIME=+<seconds>s`), so both clocks tick from the same moment of the
working day, whatever the real date and hour, and agree with each other. (The `faketime`
command itself forks and waits for the daemon, so a SIGKILL sent to it would miss the
daemon: the library is preloaded directly.) Monotonic time is left alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import json
import signal
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from gateway.smpp.sim import SmscSimulator
from gateway.store.store import Store
from tests.support.broker import free_port
from tests.support.burst import WINDOW, jobs
from tests.support.daemon import (
    DAEMON_LOGS,
    StatusWatch,
    http_get,
    log_events,
    publish,
    start_daemon,
    stop_daemon,
    write_daemon_config,
)
from tests.support.store_reads import db_rows
from tests.support.wait import eventually

# Seconds a daemon not seen is dead (`daemon.lease_seconds`): its claims and leases then go
# to the other. Short, for the test to see the takeover soon; long enough that a daemon
# busy with a burst on a loaded machine still beats within it.
LEASE = 10
# Seconds after a daemon's connection drops that the broker publishes its will and the
# other daemon takes its MQTT session over (`mqtt.handover_delay`).
HANDOVER = 1
GROUP = "motcua-sms"
FAKETIME_INSTALL_HINT = "libfaketime is not installed: apt-get install faketime"

__all__ = ["GROUP", "HANDOVER", "LEASE", "WINDOW", "Member", "Pair", "faketime_env", "jobs"]


def faketime_env(at: datetime) -> dict[str, str]:
    """The environment that runs a process with its wall clock at `at` now, ticking on
    from there (an offset, not the absolute `@` form, which restarts at each process's own
    start: two daemons started a second apart would disagree by that second)."""
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
    if not found:
        raise RuntimeError(FAKETIME_INSTALL_HINT)
    offset = round(at.timestamp() - time.time())
    return {
        "LD_PRELOAD": found[0],
        "FAKETIME": f"{offset:+d}s",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
    }


@dataclass(slots=True)
class Member:
    """One of the daemons: its name (also its bind's system_type) and its files."""

    name: str
    config: Path
    admin_port: int
    process: asyncio.subprocess.Process | None = field(default=None)

    @property
    def alive(self) -> bool:
        """Started and not exited: what the test knows of the process, not its health."""
        return self.process is not None and self.process.returncode is None

    def log_events(self) -> Counter[str]:
        """How often each event name appears in this daemon's JSON log."""
        return log_events(self.config)

    @property
    def client_id(self) -> str:
        """Its MQTT client id (write_daemon_config's, from its directory)."""
        return f"daemon-{self.config.parent.name}"

    def logged(self, event: str) -> list[dict[str, Any]]:
        """Every line this daemon logged with event name `event`, as logged."""
        found = []
        for path in sorted(DAEMON_LOGS.glob(f"{self.config.parent.name}-*.log")):
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                with contextlib.suppress(ValueError, AttributeError):
                    entry = json.loads(line)
                    if entry.get("event") == event:
                        found.append(entry)
        return found

    def log_tail(self, lines: int = 30) -> str:
        """What this daemon logged last above debug, for a failing test's report; its whole
        log is kept beside its configuration (`daemon.log`), which outlives the run."""
        found = sorted(DAEMON_LOGS.glob(f"{self.config.parent.name}-*.log"))
        text = "".join(p.read_text(encoding="utf-8", errors="replace") for p in found)
        (self.config.parent / "daemon.log").write_text(text, encoding="utf-8")
        kept = [line for line in text.splitlines() if '"level": "debug"' not in line]
        return "\n".join([f"({self.config.parent / 'daemon.log'})", *kept[-lines:]])

    async def health(self) -> tuple[int, dict[str, Any]]:
        """Its /healthz: the HTTP status and the body (which lists every daemon)."""
        status, body = await http_get(self.admin_port, "/healthz")
        return status, json.loads(body)


class Pair:
    """`async with Pair(...) as pair:` both daemons started, bound and subscribed.

    `names` are the daemons' names (and system_types); `clock_at` moves their wall clocks
    (`faketime_env`); `smpp` adds lines to both daemons' smpp sections. On the way out the
    living are stopped with SIGTERM; after a failure each one's last log lines are printed.
    """

    def __init__(
        self,
        broker_port: int,
        smsc: SmscSimulator,
        tmp_path: Path,
        store_url: str,
        *,
        names: Sequence[str] = ("a", "b"),
        clock_at: datetime | None = None,
        smpp: str = "",
    ) -> None:
        self.broker_port = broker_port
        self.smsc = smsc
        self.store_url = store_url
        self.watch = StatusWatch(broker_port)
        self.env = faketime_env(clock_at) if clock_at is not None else {}
        self._offset = (clock_at.timestamp() - time.time()) if clock_at is not None else 0.0
        self.members: dict[str, Member] = {}
        for name in names:
            # A directory of the test's own per daemon: its logs are found by its name.
            directory = tmp_path / f"{tmp_path.name}-{name}"
            directory.mkdir()
            member = Member(name, directory / "gateway.yaml", free_port())
            write_daemon_config(
                member.config,
                broker_port=broker_port,
                smsc_port=smsc.port,
                db=store_url,
                window=WINDOW,
                admin_port=member.admin_port,
                mqtt_extra=f"  shared_group: {GROUP}\n  handover_delay: {HANDOVER}\n",
                smpp=f"  system_type: {name}\n{smpp}",
                sections=f"daemon:\n  name: {name}\n  lease_seconds: {LEASE}\n",
            )
            self.members[name] = member
        self._store: Store | None = None
        self._stack = contextlib.AsyncExitStack()

    def __getitem__(self, name: str) -> Member:
        return self.members[name]

    async def __aenter__(self) -> Pair:
        await self._stack.enter_async_context(self.watch)
        self._store = await self._stack.enter_async_context(Store.open(self.store_url))
        try:
            for member in self.members.values():
                await self.start(member)
        except BaseException as exc:
            await self.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        if exc[0] is not None:  # what each daemon said last, beside the failure
            for member in self.members.values():
                print(f"--- daemon {member.name} ---\n{member.log_tail()}")
        try:
            for member in self.members.values():
                if member.alive:
                    assert member.process is not None
                    await stop_daemon(member.process)
        finally:
            await self._stack.aclose()

    def now(self) -> float:
        """The daemons' wall clock (epoch seconds)."""
        return time.time() + self._offset

    async def start(self, member: Member, timeout: float = 30) -> None:
        """Start `member` and return once it reports itself bound, connected and
        subscribed (its /healthz answers ok)."""
        member.process = await start_daemon(member.config, env=self.env)

        async def healthy() -> bool:
            if not member.alive:
                raise AssertionError(f"daemon {member.name} exited at start")
            with contextlib.suppress(OSError, ValueError):
                status, body = await member.health()
                return status == 200 and body.get("status") == "ok"
            return False

        await eventually(healthy, timeout, poll=0.1)

    async def kill(self, member: Member) -> None:
        """SIGKILL: the machine gone at once, no DISCONNECT, nothing written."""
        assert member.process is not None
        member.process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(member.process.wait(), 10)

    def sent(self) -> Counter[str]:
        """Submits the SMSC accepted so far, by the daemon that sent them."""
        return Counter(r.system_type for r in self.smsc.records if r.status == 0)

    async def publish_jobs(self, count: int, start: int = 0) -> None:
        """`count` SMS jobs (`job-<start>`, ...) at QoS 1 from an agency's side."""
        await publish(self.broker_port, jobs(count, start))

    async def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """What the shared store holds, read by the test (read-only)."""
        assert self._store is not None
        return await db_rows(self._store, sql, params)

    async def count(self, sql: str, params: Sequence[Any] = ()) -> int:
        """The one number a `SELECT COUNT(*) ...` reads."""
        found = await self.rows(sql, params)
        return int(found[0][0])

    async def settled_store(self, timeout: float = 60) -> None:
        """Until no message is left claimed and no status unpublished in the store."""

        async def settled() -> bool:
            claimed = await self.count("SELECT COUNT(*) FROM messages WHERE claimed_by IS NOT NULL")
            unpublished = await self.count("SELECT COUNT(*) FROM status_out")
            return claimed == 0 and unpublished == 0

        await eventually(settled, timeout, poll=0.2)
