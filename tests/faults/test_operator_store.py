"""An operator's ways to start a second daemon, or a daemon that cannot start: each must
be refused or end promptly, never send twice or hang."""

from __future__ import annotations

import socket

from gateway.cli import STARTUP_FAILURE
from gateway.smpp.sim import SimConfig, SmscSimulator
from tests.support.broker import free_port
from tests.support.burst import Burst
from tests.support.daemon import run_refused, write_daemon_config

COUNT = 300


async def test_second_daemon_on_the_same_store_through_a_symlink_is_refused(broker, tmp_path):
    """/var/lib/motcua-sms/gateway.db and a symlink to it (an operator's "current" link, a
    moved state directory) are one store: the second daemon must exit 3 naming the first,
    not take every queued message and send it a second time."""
    first = tmp_path / "first"
    second = tmp_path / "second"
    first.mkdir()
    second.mkdir()
    async with (
        SmscSimulator(SimConfig(receipt_delay=0.05)) as smsc,
        Burst(broker.port, smsc, first, COUNT) as burst,
    ):
        link = second / "gateway.db"
        link.symlink_to(burst.db)
        config = second / "gateway.yaml"
        write_daemon_config(
            config, broker_port=broker.port, smsc_port=smsc.port, db=link,
            admin_port=free_port(),
        )  # fmt: skip
        status, lines = await run_refused(config, timeout=8)
        # (run_refused kills a daemon still running after 8 s and fails the test)
        await burst.publish()
        delivered = await burst.all_delivered()

    assert status == STARTUP_FAILURE
    (line,) = lines
    assert "is held by another running instance" in line
    assert burst.check(delivered) == 0


async def test_daemon_whose_admin_port_is_taken_ends_at_once_with_one_line(broker, tmp_path):
    """Another service on admin.port while the SMSC is up: the daemon used to bind to the
    SMSC, then hang for ever in its unwinding (deaf to SIGTERM, nothing logged), holding
    the bind and the store lock."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        async with SmscSimulator(SimConfig()) as smsc:
            config = tmp_path / "gateway.yaml"
            write_daemon_config(
                config, broker_port=broker.port, smsc_port=smsc.port,
                db=tmp_path / "gateway.db", admin_port=port,
            )  # fmt: skip
            code, lines = await run_refused(config, timeout=15)
    finally:
        taken.close()

    assert code != 0
    text = "\n".join(lines)
    assert str(port) in text
    assert "Traceback" not in text


async def test_a_taken_admin_port_is_refused_before_the_smsc_is_bound_or_the_store_opened(
    broker, tmp_path
):
    """The admin port is the first thing the daemon takes after the store lock: a taken
    one is exit 3 and one line naming it, with no bind made and no store migrated."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    db = tmp_path / "gateway.db"
    try:
        async with SmscSimulator(SimConfig()) as smsc:
            config = tmp_path / "gateway.yaml"
            write_daemon_config(
                config, broker_port=broker.port, smsc_port=smsc.port, db=db, admin_port=port,
            )  # fmt: skip
            code, lines = await run_refused(config, timeout=15)
            binds = smsc.stats.binds
    finally:
        taken.close()

    assert code == STARTUP_FAILURE
    (line,) = lines
    assert f"admin endpoint 127.0.0.1:{port} cannot be opened" in line
    assert binds == 0
    assert db.stat().st_size == 0  # created empty by the lock, never migrated
