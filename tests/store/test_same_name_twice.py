"""The same daemon.name twice. Its default is the host name; a previous life whose process
is gone starts again at once, and a machine is told by its installation, boot and pid
namespace, not its host name.

- Two machines of one host name (VMs cloned from one image, both `localhost` or the
  template's name): a pid of the first means nothing on the second, so the second is
  refused while the first beats (else both would send that name's claims).
- A restarted life whose pid is the previous life's (a container: the daemon is pid 1 in
  every life; any host: pid reuse) after a SIGKILL or an OOM kill starts at once: that
  pid is this process, a new instance, not the previous life.
- Two containers of one name on one host (one boot, pid namespaces of their own): the
  second is refused while the first beats.
- A machine reset and back within the lease (same installation, a new boot): its daemon
  starts; a VM cloned from the same installation whose twin beat after it booted does not."""

from __future__ import annotations

import os

import pytest

from gateway.settings.daemon import host_name
from gateway.store import daemons
from gateway.store.claims import Claimant, machine_id
from gateway.store.daemons import DaemonNameTaken, new_instance
from tests.support.clock import NOON, Clock
from tests.support.daemons import daemon_store, gone_pid

LEASE = 30.0


async def test_a_second_machine_of_the_same_host_name_is_refused_while_the_first_beats(
    postgres_url,
):
    clock = Clock(NOON)
    # The first machine's daemon: a pid that does not run on this (the second) machine.
    first = Claimant(
        "gw", LEASE, new_instance(), host="localhost", pid=gone_pid(), machine="another-boot"
    )
    second = Claimant("gw", LEASE, new_instance(), host="localhost")
    assert second.machine != first.machine
    async with daemon_store(postgres_url, first, clock) as one:
        clock.now = NOON + 1
        assert await one.daemons.beat()  # alive: it beat this second
        with pytest.raises(DaemonNameTaken):
            async with daemon_store(postgres_url, second, clock):
                pass
        assert await one.daemons.beat()  # the first keeps its name


async def test_a_restarted_life_with_the_previous_lifes_pid_starts_at_once(postgres_url):
    clock = Clock(NOON)
    # The previous life was this pid too (pid 1 in a container): it was SIGKILLed, so it
    # never left; this process, a new instance, is not it.
    killed = Claimant("gw", LEASE, new_instance(), pid=os.getpid())
    async with daemon_store(postgres_url, killed, clock):
        pass
    clock.now = NOON + 5  # systemd's RestartSec
    again = Claimant("gw", LEASE, new_instance(), pid=os.getpid())
    async with daemon_store(postgres_url, again, clock) as store:
        (row,) = await store.daemons.listed()
    assert row.seen_at == NOON + 5


def test_a_machine_is_its_installation_its_boot_and_its_pid_namespace(tmp_path):
    installed, boot, pids = tmp_path / "machine-id", tmp_path / "boot_id", tmp_path / "ns"
    installed.write_text("c0ffee\n", encoding="ascii")
    boot.write_text("5f1e-b007\n", encoding="ascii")
    pids.write_text("", encoding="ascii")

    assert machine_id(installed, boot, pids) == f"c0ffee/5f1e-b007/{os.stat(pids).st_ino}"
    assert machine_id(tmp_path / "none", boot, pids).startswith(f"{host_name()}/5f1e-b007/")


def test_this_machine_is_told_by_all_three():
    assert len(machine_id().split("/")) == 3


async def test_a_second_container_of_the_same_name_on_one_host_is_refused(postgres_url):
    clock = Clock(NOON)
    # One host's boot, each container its own pid namespace: pid 1 in both.
    first = Claimant("gw", LEASE, new_instance(), pid=1, machine="c0ffee/boot-1/4026531836")
    second = Claimant("gw", LEASE, new_instance(), pid=1, machine="c0ffee/boot-1/4026532999")
    async with daemon_store(postgres_url, first, clock) as one:
        clock.now = NOON + 1
        assert await one.daemons.beat()
        with pytest.raises(DaemonNameTaken):
            async with daemon_store(postgres_url, second, clock):
                pass


async def test_a_daemon_started_again_after_its_machine_was_reset_within_the_lease_starts(
    postgres_url, monkeypatch
):
    clock = Clock(NOON)
    # The life before the reset never left; the machine is back 20 s later, booted 10 s ago.
    crashed = Claimant(
        "gw", LEASE, new_instance(), pid=gone_pid(), machine="c0ffee/boot-1/4026531836"
    )
    async with daemon_store(postgres_url, crashed, clock):
        pass
    clock.now = NOON + 20
    monkeypatch.setattr(daemons, "booted_ago", lambda: 10.0)
    rebooted = Claimant("gw", LEASE, new_instance(), machine="c0ffee/boot-2/4026531836")
    async with daemon_store(postgres_url, rebooted, clock) as store:
        assert await store.daemons.beat()


async def test_a_clone_of_the_installation_is_refused_while_its_twin_beats(
    postgres_url, monkeypatch
):
    clock = Clock(NOON)
    twin = Claimant("gw", LEASE, new_instance(), pid=gone_pid(), machine="c0ffee/boot-1/1")
    async with daemon_store(postgres_url, twin, clock) as one:
        clock.now = NOON + 20
        assert await one.daemons.beat()  # beat after the clone booted, 10 s ago
        monkeypatch.setattr(daemons, "booted_ago", lambda: 10.0)
        clone = Claimant("gw", LEASE, new_instance(), machine="c0ffee/boot-2/1")
        with pytest.raises(DaemonNameTaken):
            async with daemon_store(postgres_url, clone, clock):
                pass


async def test_the_host_name_is_what_the_daemons_list_shows(postgres_url):
    clock = Clock(NOON)
    shown = Claimant("gw", LEASE, new_instance(), host="gw-host", machine="boot-1")
    async with daemon_store(postgres_url, shown, clock) as store:
        (row,) = await store.daemons.listed()
    assert row.host == "gw-host"
