"""Real daemons (subprocesses, as systemd runs them) on one PostgreSQL store: a second
daemon under a name that is alive is refused at start-up; each daemon's /healthz lists
every daemon of the store, and shows one killed as not alive once its lease has passed."""

from __future__ import annotations

import json
from pathlib import Path

from gateway.cli import STARTUP_FAILURE
from gateway.smpp.sim import SimConfig, SmscSimulator
from tests.support.broker import free_port
from tests.support.daemon import (
    http_get,
    run_refused,
    start_daemon,
    stop_daemon,
    write_daemon_config,
)
from tests.support.wait import eventually

LEASE = 3


def daemon_config(tmp_path: Path, name: str, dir_name: str, url: str, broker: int, smsc: int):
    """Daemon `name`'s configuration in a directory of its own (its own MQTT client id)."""
    # Its own MQTT client id (from the directory's name), never another test's session.
    directory = tmp_path / f"{tmp_path.name}-{dir_name}"
    directory.mkdir()
    admin_port = free_port()
    config = directory / "gateway.yaml"
    write_daemon_config(
        config, broker_port=broker, smsc_port=smsc, db=url, admin_port=admin_port,
        sections=f"daemon:\n  name: {name}\n  lease_seconds: {LEASE}\n",
    )  # fmt: skip
    return config, admin_port


async def listed(port: int) -> dict[str, dict]:
    try:
        _, body = await http_get(port, "/healthz")
        return {d["name"]: d for d in json.loads(body).get("daemons", [])}
    except (OSError, ValueError):
        return {}


async def test_a_second_daemon_under_a_live_name_is_refused_and_the_first_runs_on(
    broker, postgres_url, tmp_path
):
    async with SmscSimulator(SimConfig()) as smsc:
        first, port = daemon_config(tmp_path, "gw-1", "a", postgres_url, broker.port, smsc.port)
        second, _ = daemon_config(tmp_path, "gw-1", "b", postgres_url, broker.port, smsc.port)
        daemon = await start_daemon(first)
        try:

            async def up() -> bool:
                return "gw-1" in await listed(port)

            await eventually(up, timeout=30)

            status, lines = await run_refused(second)

            assert daemon.returncode is None
            assert (await listed(port))["gw-1"]["pid"] == daemon.pid
        finally:
            await stop_daemon(daemon)

    assert status == STARTUP_FAILURE
    (line,) = lines
    assert line.startswith(
        f"motcua-sms: daemon name 'gw-1' is in use on this store by pid {daemon.pid} on host "
    )


async def test_healthz_lists_every_daemon_and_a_killed_one_as_dead_after_its_lease(
    broker, postgres_url, tmp_path
):
    async with SmscSimulator(SimConfig()) as smsc:
        one, port = daemon_config(tmp_path, "gw-1", "a", postgres_url, broker.port, smsc.port)
        two, _ = daemon_config(tmp_path, "gw-2", "b", postgres_url, broker.port, smsc.port)
        first, second = await start_daemon(one), await start_daemon(two)
        try:

            async def both_alive() -> bool:
                found = await listed(port)
                return all(found.get(n, {}).get("alive") for n in ("gw-1", "gw-2"))

            await eventually(both_alive, timeout=30)
            second.kill()
            await second.wait()

            async def second_dead() -> bool:
                return (await listed(port)).get("gw-2", {}).get("alive") is False

            await eventually(second_dead, timeout=LEASE + 10)
            found = await listed(port)
        finally:
            await stop_daemon(first)

    assert found["gw-1"]["alive"] and found["gw-1"]["this"]
    assert found["gw-2"]["pid"] == second.pid
    assert found["gw-2"]["seen_seconds_ago"] >= LEASE
