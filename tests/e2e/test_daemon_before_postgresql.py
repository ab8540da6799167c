"""A daemon started while its PostgreSQL server is not up yet (a site's power comes back
and the gateway hosts boot faster than the database host; the server restarting for an
upgrade while systemd restarts the daemon). That is no start-up refusal (SPEC: exit 3 is a
configuration error, a store that cannot be used, a store held, which systemd does not
restart: RestartPreventExitStatus=3): the daemon exits with status 1 on one line naming
the server, and systemd starts it again until the server answers. A server that refuses
the daemon's login stays a refusal (tests/e2e/test_daemon_on_postgresql.py)."""

from __future__ import annotations

import configparser
from pathlib import Path

from gateway.cli import RUNTIME_FAILURE, STARTUP_FAILURE
from tests.support.broker import free_port
from tests.support.daemon import run_refused, write_daemon_config

UNIT = Path(__file__).parents[2] / "systemd" / "motcua-sms.service"


async def test_a_daemon_whose_postgresql_server_is_not_up_yet_exits_for_systemd_to_restart(
    broker, tmp_path
):
    config = tmp_path / "gateway.yaml"
    url = f"postgresql://gateway@127.0.0.1:{free_port()}/motcua_sms"  # nothing listens yet
    write_daemon_config(config, broker_port=broker.port, smsc_port=free_port(), db=url)

    status, lines = await run_refused(config)

    assert status == RUNTIME_FAILURE != STARTUP_FAILURE
    (line,) = lines
    assert line.startswith(f"motcua-sms: store {url} is unavailable: cannot connect")


def test_systemd_restarts_the_status_of_a_store_not_reachable_yet():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(UNIT)
    service = unit["Service"]

    assert service["Restart"] == "on-failure"
    assert str(RUNTIME_FAILURE) not in service.get("RestartPreventExitStatus", "").split()
