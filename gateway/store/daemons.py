"""The daemons of one store: who is working on it, and who is alive.

Each daemon registers at start-up under its name (`daemon.name`) with an instance id of its
own (a fresh one per process), its host and pid, and says it is alive (`seen_at`) every
third of the lease. A daemon not seen within `daemon.lease_seconds` is dead: the others
take its claims (`gateway.store.claims`) and its leases (`gateway.store.leases`).

A second daemon under a name another instance was seen with within the lease is refused
(`DaemonNameTaken`, a start-up refusal): two daemons of one name would both take that
name's claims and send everything twice. A previous life on this same machine whose
process is gone (killed moments ago), or whose pid is this life's own, is no such daemon:
the name starts again at once, as does one on this installation before its latest boot
(a machine reset and back within the lease). A machine is its installation, boot and pid
namespace (`claims.machine_id`), not its host name, which two machines (or containers)
may share; /healthz shows the host name. A daemon
stopped cleanly leaves (`leave`): its row, claims and leases go at once, so nothing waits
out the lease for it. A killed one stays listed, dead, until it starts again.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass

import structlog

from gateway.store import leases
from gateway.store.claims import ALONE, Claimant, Tenure, booted_ago
from gateway.store.database import Connection, Database
from gateway.store.schema import StoreError

log = structlog.get_logger("gateway.store.daemons")

_REGISTER = """INSERT INTO daemons (name, instance, host, machine, pid, started_at, seen_at)
    VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (name) DO UPDATE SET instance = excluded.instance, host = excluded.host,
        machine = excluded.machine, pid = excluded.pid, started_at = excluded.started_at,
        seen_at = excluded.seen_at"""

# Released when a daemon leaves: only what is still waiting (an outcome already committed
# released its row; a final row's claim means nothing).
_RELEASE = (
    "UPDATE messages SET claimed_by = NULL WHERE claimed_by = ? AND state = 'queued'",
    "UPDATE emails SET claimed_by = NULL WHERE claimed_by = ? AND state = 'queued'",
    "UPDATE status_out SET claimed_by = NULL WHERE claimed_by = ?",
)


class DaemonNameTaken(StoreError):
    """Another instance under this daemon's name is alive on the store."""

    def __init__(self, name: str, host: str, pid: int, ago: float) -> None:
        super().__init__(
            f"daemon name {name!r} is in use on this store by pid {pid} on host {host} "
            f"(seen {ago:.0f} s ago); two daemons of one name would send everything twice: "
            "give each its own daemon.name"
        )
        self.name = name


@dataclass(frozen=True, slots=True)
class DaemonRow:
    """One daemon of the store, as /healthz lists it."""

    name: str
    host: str
    pid: int
    started_at: float
    seen_at: float


def new_instance() -> str:
    """An id of this process's life, told apart from a previous life of the same name."""
    return uuid.uuid4().hex


class Daemons:
    """This daemon's registration and heartbeat, and the list of every daemon."""

    def __init__(
        self, db: Database, claimant: Claimant = ALONE, tenure: Tenure | None = None
    ) -> None:
        self._db = db
        self.claimant = claimant
        # Until when this daemon's claims are its own: renewed by each heartbeat.
        self.tenure = tenure or Tenure(claimant.lease)

    async def register(self) -> None:
        """At start-up, before anything is claimed; DaemonNameTaken if the name is taken."""
        began = self.tenure.clock()
        await self._db.write(_register, self.claimant, self._db.lease_clock())
        self.tenure.renewed(began, None)

    async def beat(self) -> bool:
        """Seen now. False if another instance has taken this name meanwhile (this one was
        stalled past the lease and judged dead): this daemon must stop. A beat after a gap
        that may have let the others take this daemon's claims says so in the log, and
        the senders fetch again (`Tenure`)."""
        began = self.tenure.clock()
        await self._db.sync_clock()  # liveness is judged on one clock: measure it again
        unseen = await self._db.write(_beat, self.claimant, self._db.lease_clock())
        if unseen is None:
            return False
        self.tenure.renewed(began, unseen)
        return True

    def now(self) -> float:
        """Now on the clock every daemon of the store is judged alive by."""
        return self._db.lease_clock()

    async def leave(self) -> None:
        """A clean stop: claims and leases released, the row gone."""
        await self._db.write(_leave, self.claimant)

    async def listed(self) -> list[DaemonRow]:
        """Every daemon registered on the store, by name."""
        found = await self._db.read(_listed)
        return [DaemonRow(*r) for r in found]


def _register(db: Connection, me: Claimant, now: float) -> None:
    row = db.execute(
        "SELECT instance, host, machine, pid, seen_at FROM daemons WHERE name = ?", (me.name,)
    ).fetchone()
    if row is not None and row[0] != me.instance and row[4] >= now - me.lease:
        _, host, machine, pid, seen_at = row
        if not _previous_life(machine, pid, seen_at, me, now):
            raise DaemonNameTaken(me.name, host, pid, max(0.0, now - seen_at))
    db.execute(_REGISTER, (me.name, me.instance, me.host, me.machine, me.pid, now, now))


def _previous_life(machine: str, pid: int, seen_at: float, me: Claimant, now: float) -> bool:
    """Whether the name's last registration is this daemon's previous life, which no longer
    runs: on this machine (same installation, boot and pid namespace) a pid that is gone;
    or on this installation before its latest boot (a crash, a reset: the machine came
    back within the lease), seen last before this boot began."""
    if machine == me.machine:
        return _gone(pid, me)
    theirs, mine = machine.split("/"), me.machine.split("/")
    if len(theirs) != 3 or len(mine) != 3 or theirs[0] != mine[0] or theirs[1] == mine[1]:
        return False
    ago = booted_ago()
    return ago is not None and seen_at < now - ago


def _gone(pid: int, me: Claimant) -> bool:
    """Whether the previous life `pid`, on this machine, no longer runs. One killed
    moments ago (SIGKILL, OOM) is gone: its own name starts again at once, without waiting
    out the lease (systemd's restart would otherwise be refused). So is one whose pid is
    this life's own (a container's pid 1 in every life, a pid reused): this process, a new
    instance, is not it."""
    if pid == me.pid:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # another user's process
    return False


def _beat(db: Connection, me: Claimant, now: float) -> float | None:
    """Seconds since this instance was last seen; None if the name is another's now."""
    row = db.execute(
        "SELECT seen_at FROM daemons WHERE name = ? AND instance = ?", (me.name, me.instance)
    ).fetchone()
    if row is None:
        return None
    db.execute(
        "UPDATE daemons SET seen_at = ? WHERE name = ? AND instance = ?",
        (now, me.name, me.instance),
    )
    return max(0.0, now - row[0])


def _leave(db: Connection, me: Claimant) -> None:
    if not db.execute(
        "DELETE FROM daemons WHERE name = ? AND instance = ?", (me.name, me.instance)
    ).rowcount:
        return  # another instance has the name now: its claims are its own
    for sql in _RELEASE:
        db.execute(sql, (me.name,))
    leases.release_all(db, me.name)


def _listed(db: Connection) -> list[tuple[str, str, int, float, float]]:
    return db.execute(
        "SELECT name, host, pid, started_at, seen_at FROM daemons ORDER BY name"
    ).fetchall()


async def keep_alive(daemons: Daemons, every: float) -> None:
    """The daemon's heartbeat in the store, every `every` seconds, until cancelled. Returns
    (and so stops the daemon) if another instance has taken this daemon's name: this one
    was judged dead, and its claims are that one's now."""
    while await daemons.beat():
        await asyncio.sleep(every)
    log.error(
        "daemon_name_taken_over",
        daemon=daemons.claimant.name,
        then="stopping: another instance works under this name",
    )
