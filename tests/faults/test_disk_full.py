"""The store's disk full for a while: intake stops acknowledging, sends already made are
held (not sent again), and everything completes once writes work again."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.smpp.sim import SimConfig, SmscSimulator
from tests.support.burst import Burst

COUNT = 2000


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 32 MiB tmpfs of the test's own, which the test can fill."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    """Write until the file system says ENOSPC."""
    filler = disk / "filler"
    chunk = b"\0" * (1 << 20)
    with filler.open("wb", buffering=0) as out:
        try:
            while True:
                out.write(chunk)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
        with contextlib.suppress(OSError):  # the last pages a small write still finds
            while True:
                out.write(b"\0" * 512)
    return filler


async def test_disk_full_mid_burst_loses_nothing_and_recovers(broker, tmp_path, small_disk):
    async with (
        SmscSimulator(SimConfig(receipt_delay=0.05)) as smsc,
        Burst(broker.port, smsc, tmp_path, COUNT, db=small_disk / "gateway.db") as burst,
    ):
        await burst.publish(0, COUNT // 2)
        await burst.submitted_at_least(COUNT // 4)
        filler = await asyncio.to_thread(fill, small_disk)
        await burst.publish(COUNT // 2, COUNT // 2)  # accepted by the broker, not by us
        await asyncio.sleep(3)
        refused = burst.log_events()
        submits_while_full = smsc.stats.submits
        await asyncio.sleep(1)
        assert smsc.stats.submits - submits_while_full <= burst.count // 100, (
            "nothing may go on being sent while no outcome can be recorded"
        )
        assert burst.daemon is not None and burst.daemon.returncode is None, "still running"
        os.unlink(filler)
        delivered = await burst.all_delivered()

    assert refused["intake_commit_failed"] + refused["outcome_commit_failed"] > 0, (
        "the disk must really have refused writes"
    )
    assert burst.check(delivered) == 0, "a held outcome is committed, never sent again"
