"""Who works a row when several daemons share one store: the row's `claimed_by`.

A queued message, a letter or a status to publish is worked by the one daemon whose name
its `claimed_by` holds. A daemon's read of due rows is one write that takes the rows that
are claimable by it (`CLAIMABLE`): unclaimed, already its own (taken in this life, or in
its previous one under the same name: a restart takes them back at once), or claimed by a
daemon not seen within the lease (dead: the daemons registry, `gateway.store.daemons`),
and marks them claimed. An outcome that leaves a row queued (a retry) releases it, so any
daemon may take it when it falls due.

On SQLite, one daemon per store, the same statements run: every claim is the one daemon's.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gateway.settings.daemon import DaemonConfig, host_name

# Rows another daemon may take: `?` the taker's name, then the oldest `seen_at` of a daemon
# still alive (now - lease). The registry is a handful of rows.
LIVE = "SELECT name FROM daemons WHERE seen_at >= ?"
CLAIMABLE = f"(claimed_by IS NULL OR claimed_by = ? OR claimed_by NOT IN ({LIVE}))"


# Where a machine's identity is read, first found first: the boot id is new at every boot
# (a VM cloned from an image gets its own), the machine id is the installation's.
MACHINE_IDS = (Path("/proc/sys/kernel/random/boot_id"), Path("/etc/machine-id"))


def machine_id(sources: Sequence[Path] = MACHINE_IDS) -> str:
    """This machine as it runs now, told apart from another of the same host name (VMs
    cloned from one image, containers all called `localhost`): its boot id, else its
    machine id, else its host name. A daemon's pid is looked up only on its own machine."""
    for source in sources:
        try:
            found = source.read_text(encoding="ascii").strip()
        except (OSError, UnicodeError):
            continue
        if found:
            return found
    return host_name()


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
