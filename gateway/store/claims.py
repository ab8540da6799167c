"""Who works a row when several daemons share one store: the row's `claimed_by`.

A queued message, a letter or a status to publish is worked by the one daemon whose name
its `claimed_by` holds. A daemon's read of due rows is one write that takes the rows that
are claimable by it (`CLAIMABLE`): unclaimed, already its own (taken in this life, or in
its previous one under the same name: a restart takes them back at once), or claimed by a
daemon not seen within the lease (dead: the daemons registry, `gateway.store.daemons`),
and marks them claimed. An outcome that leaves a row queued (a retry) releases it, so any
daemon may take it when it falls due.

A daemon knows on its own monotonic clock until when its claims are surely its own
(`Tenure`, renewed by each heartbeat): a daemon stalled past its lease (SIGSTOP, a VM
paused) sends none of what it fetched before, since the others may have taken it.

On SQLite, one daemon per store, the same statements run: every claim is the one daemon's.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from gateway.settings.daemon import DaemonConfig, host_name

log = structlog.get_logger("gateway.store.claims")

# Rows another daemon may take: `?` the taker's name, then the oldest `seen_at` of a daemon
# still alive (now - lease). The registry is a handful of rows.
LIVE = "SELECT name FROM daemons WHERE seen_at >= ?"
CLAIMABLE = f"(claimed_by IS NULL OR claimed_by = ? OR claimed_by NOT IN ({LIVE}))"


# What a daemon's machine is, read from: the installation (its machine id), this boot of
# it (a VM cloned from an image boots with its own), and the pid namespace the daemon runs
# in (containers on one host share its boot, each with pids of its own).
INSTALLATION = Path("/etc/machine-id")
BOOT = Path("/proc/sys/kernel/random/boot_id")
PIDS = Path("/proc/self/ns/pid")
UPTIME = Path("/proc/uptime")


def machine_id(
    installation: Path = INSTALLATION, boot: Path = BOOT, pids: Path = PIDS
) -> str:
    """Where a daemon's pid means something: `<installation>/<boot>/<pid namespace>`, told
    apart from another machine of the same host name (VMs cloned from one image, containers
    all called `localhost`). Only a daemon of the same three is looked up by its pid."""
    parts = [_read(installation) or host_name(), _read(boot)]
    try:
        parts.append(str(os.stat(pids).st_ino))
    except OSError:
        parts.append("")
    return "/".join(parts)


def booted_ago(uptime: Path = UPTIME) -> float | None:
    """Seconds since this machine booted, None if unknown."""
    try:
        return float(_read(uptime).split()[0])
    except (IndexError, ValueError):
        return None


def _read(source: Path) -> str:
    try:
        return source.read_text(encoding="ascii").strip()
    except (OSError, UnicodeError):
        return ""


@dataclass(frozen=True, slots=True)
class Claimant:
    """The daemon that claims: its name and the lease it and the others are judged by."""

    name: str
    lease: float = 30.0
    # This life of the daemon: its process, told apart from a previous life of the name.
    instance: str = field(default="", compare=False)
    host: str = field(default_factory=host_name, compare=False)
    pid: int = field(default_factory=os.getpid, compare=False)
    # The machine as it runs now (`machine_id`): a pid means something only on it.
    machine: str = field(default_factory=lambda: machine_id(), compare=False)

    @classmethod
    def of(cls, config: DaemonConfig, instance: str = "") -> Claimant:
        return cls(config.name, float(config.lease_seconds), instance)

    def params(self, now: float) -> tuple[str, float]:
        """The parameters of `CLAIMABLE` at `now`."""
        return (self.name, now - self.lease)


# A store opened without a daemon (tests of one repository, `validate`'s scratch store):
# the machine's one daemon, with the default lease.
ALONE = Claimant.of(DaemonConfig())


# Of the lease, the part a daemon's own view of its claims keeps in hand: for the time
# between a look at it and the write it allows, and for the hosts' clocks.
MARGIN = 1 / 6


class Tenure:
    """Until when this daemon's claims are surely its own, on this machine's monotonic
    clock: the start of its last successful heartbeat, plus the lease, minus a margin.

    Another daemon takes the claims of a daemon not seen within the lease. A daemon stalled
    that long (SIGSTOP, a VM paused, a swap storm) learns of it only from its next
    heartbeat, and meanwhile its senders would send what they fetched ahead, which the
    other is sending too. So they look here before each send or publish (`holds`): past it,
    they drop what they fetched and fetch again after the next successful heartbeat (only
    what is still theirs comes back); a fetch made while the claims had lapsed is dropped
    too (`held_since`). Not registered (a store opened by a tool, a repository's test): no
    other daemon judges this one, and its claims always hold."""

    def __init__(self, lease: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.lease = lease
        self.clock = clock
        self._until: float | None = None
        self._since = -math.inf  # the hold has been unbroken since then
        self._beaten = asyncio.Event()

    def holds(self) -> bool:
        """Whether this daemon's claims are still its own now."""
        return self._until is None or self.clock() <= self._until

    def held_since(self, mark: float) -> bool:
        """Whether they are, and have been without a break since `mark` (a `clock()`
        taken before a fetch): what that fetch returned is this daemon's to send."""
        return self.holds() and self._since <= mark

    def renewed(self, began: float, unseen: float | None) -> None:
        """A heartbeat that began at `began` (`clock()`) is written; the store had last
        seen this daemon `unseen` seconds before it (None: its first)."""
        lapsed = self._until is not None and began > self._until
        if unseen is not None and unseen > self.lease * (1 - MARGIN):
            lapsed = True
        if lapsed or self._until is None:
            self._since = self.clock()  # what was fetched before may be another's now
        if lapsed:
            log.warning(
                "daemon_was_judged_dead" if unseen is None or unseen >= self.lease
                else "daemon_heartbeat_late",
                unseen_seconds=None if unseen is None else round(unseen, 1),
                lease_seconds=self.lease,
                then="what was fetched ahead is dropped and fetched again",
            )
        self._until = began + self.lease * (1 - MARGIN)
        beaten, self._beaten = self._beaten, asyncio.Event()
        beaten.set()

    async def regained(self, most: float) -> None:
        """Until the next successful heartbeat, or `most` seconds."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._beaten.wait(), most)

    async def lapsed(self, since: float) -> None:
        """Until the claims are no longer held unbroken since `since`: the last heartbeat
        plus the lease came with no heartbeat since, or a heartbeat came after such a gap
        (looked at every second at least)."""
        while self.held_since(since):
            left = 1.0 if self._until is None else self._until - self.clock()
            await asyncio.sleep(min(1.0, max(0.0, left)))
