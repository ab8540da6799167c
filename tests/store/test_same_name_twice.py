"""The same daemon.name twice. Its default is the host name; a previous life whose process
is gone starts again at once, and a machine is told by its boot id, not its host name.

- Two machines of one host name (VMs cloned from one image, both `localhost` or the
  template's name): a pid of the first means nothing on the second, so the second is
  refused while the first beats (else both would send that name's claims).
- A restarted life whose pid is the previous life's (a container: the daemon is pid 1 in
  every life; any host: pid reuse) after a SIGKILL or an OOM kill starts at once: that
  pid is this process, a new instance, not the previous life."""

from __future__ import annotations

import os

import pytest

from gateway.settings.daemon import host_name
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


def test_a_machine_is_its_boot_id_then_its_machine_id_then_its_host_name(tmp_path):
    boot, installed = tmp_path / "boot_id", tmp_path / "machine-id"
    installed.write_text("c0ffee\n", encoding="ascii")
    assert machine_id([boot, installed]) == "c0ffee"
    boot.write_text("5f1e-b007\n", encoding="ascii")
    assert machine_id([boot, installed]) == "5f1e-b007"
    assert machine_id([tmp_path / "none"]) == host_name()


async def test_the_host_name_is_what_the_daemons_list_shows(postgres_url):
    clock = Clock(NOON)
    shown = Claimant("gw", LEASE, new_instance(), host="gw-host", machine="boot-1")
    async with daemon_store(postgres_url, shown, clock) as store:
        (row,) = await store.daemons.listed()
    assert row.host == "gw-host"
