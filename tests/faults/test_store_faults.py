"""A store that must not be used: held by a running daemon, not a database, damaged,
or of a newer schema. Each is refused at start-up with exit status 3 (which systemd
does not restart) and one line naming the cause; nothing else is touched."""

from __future__ import annotations

import configparser
import os
import sqlite3
from pathlib import Path

import pytest

from gateway.cli import STARTUP_FAILURE
from gateway.domain.dossier import DossierRow
from gateway.smpp.sim import SimConfig, SmscSimulator
from gateway.store.schema import SCHEMA_VERSION
from gateway.store.store import Store
from tests.support.broker import free_port
from tests.support.burst import Burst
from tests.support.daemon import run_refused, write_daemon_config

UNIT = Path(__file__).parents[2] / "systemd" / "motcua-sms.service"
COUNT = 600



async def test_second_instance_on_the_same_store_is_refused_and_the_first_keeps_delivering(
    broker, tmp_path
):
    """The same unit started twice: the second exits 3 naming the first (its pid); it
    neither binds to the SMSC nor takes the broker session; the first delivers all."""
    async with (
        SmscSimulator(SimConfig(receipt_delay=0.05)) as smsc,
        Burst(broker.port, smsc, tmp_path, COUNT) as burst,
    ):
        assert burst.daemon is not None
        await burst.publish(0, COUNT // 2)
        await burst.submitted_at_least(COUNT // 10)
        binds = smsc.stats.binds

        status, lines = await run_refused(burst.config)

        await burst.publish(COUNT // 2, COUNT - COUNT // 2)
        delivered = await burst.all_delivered()
        assert smsc.stats.binds == binds
        assert burst.daemon.returncode is None

    assert status == STARTUP_FAILURE
    (line,) = lines
    assert f"store {burst.db} is held by another running instance (pid {burst.daemon.pid} " in line
    assert burst.check(delivered) == 0


async def test_file_of_garbage_bytes_as_store_is_refused_naming_it(tmp_path):
    db = tmp_path / "gateway.db"
    db.write_bytes(os.urandom(64 * 1024))

    status, lines = await run_refused(config_for(tmp_path, db))

    assert status == STARTUP_FAILURE
    assert lines == [f"motcua-sms: store {db}: not a database (file is not a database)"]


async def test_report_on_a_file_that_is_not_a_store_says_so_in_one_line(tmp_path):
    db = tmp_path / "gateway.db"
    db.write_bytes(os.urandom(64 * 1024))
    report = ("report", "--from", "2026-11-01", "--to", "2026-11-30")

    status, lines = await run_refused(config_for(tmp_path, db), command=report)

    assert status == STARTUP_FAILURE
    assert lines == [f"motcua-sms: store {db}: not a database (file is not a database)"]


@pytest.mark.parametrize("damage", ["truncated", "overwritten"])
async def test_damaged_store_is_refused_naming_it(tmp_path, damage):
    db = await written_store(tmp_path / "gateway.db")
    size = db.stat().st_size
    if damage == "truncated":
        os.truncate(db, size // 2)
    else:
        with db.open("r+b") as f:
            f.seek(size // 2)
            f.write(os.urandom(4 * 4096))
    before = db.read_bytes()

    status, lines = await run_refused(config_for(tmp_path, db))

    assert status == STARTUP_FAILURE
    (line,) = lines
    assert line.startswith(f"motcua-sms: store {db}: damaged (")
    assert db.read_bytes() == before


async def test_store_written_by_a_newer_version_is_refused_naming_it(tmp_path):
    db = tmp_path / "gateway.db"
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")

    status, lines = await run_refused(config_for(tmp_path, db))

    assert status == STARTUP_FAILURE
    (line,) = lines
    assert line.startswith(f"motcua-sms: store {db}: written by a newer version of motcua-sms")


def test_unit_does_not_restart_a_start_up_refusal():
    """Restarting every 5 s cannot fix a held or damaged store: exit 3 is final."""
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read_string(UNIT.read_text(encoding="utf-8"))

    assert str(STARTUP_FAILURE) in unit["Service"]["RestartPreventExitStatus"].split()


def config_for(tmp_path: Path, db: Path) -> Path:
    """A daemon configuration on `db`; nothing listens on its SMSC and broker ports, as
    nothing is reached before the store is checked."""
    config = tmp_path / "gateway.yaml"
    write_daemon_config(config, broker_port=free_port(), smsc_port=free_port(), db=db)
    return config


async def written_store(db: Path) -> Path:
    """A store of a few hundred kilobytes, written and closed by the gateway."""
    async with Store.open(db) as store:
        await store.dossiers.record_intake(
            dossiers=[
                DossierRow(f"{n:010d}", f"{n:010d}", "SCT", "Cấp phép " * 5, None,
                           "84905123456", "Thẩm định", "processing", "2026-11-25", False,
                           "2026-11-20T09:00:00+07:00", None)
                for n in range(3000)
            ]
        )  # fmt: skip
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db
