"""The modules a daemon run as systemd runs it has loaded, read back after it stops.

`motcua-sms run -c FILE` is started through `gateway.cli.main`, as the console script
does, in a process that writes `sys.modules` to stdout at exit: everything the daemon
imported from start-up to shutdown, whatever part imported it. The daemon is stopped
(SIGTERM) once its admin port says the broker is connected, that is once every part has
started.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from tests.support.daemon import DAEMON_LOGS, http_get, stop_daemon
from tests.support.wait import eventually

_RUN = """
import atexit, sys
atexit.register(lambda: print("\\n".join(sorted(sys.modules)), flush=True))
from gateway.cli import main
sys.exit(main(["run", "-c", sys.argv[1]]))
"""


async def daemon_modules(config: Path, admin_port: int, timeout: float = 30) -> set[str]:
    """The names of the modules the daemon of `config` (its admin on `admin_port`) loaded
    from start-up until it stopped."""
    DAEMON_LOGS.mkdir(exist_ok=True)
    with (DAEMON_LOGS / f"{config.parent.name}-imports.log").open("wb") as log:
        daemon = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _RUN, str(config),
            stdout=asyncio.subprocess.PIPE, stderr=log,
            env={**os.environ, "MOTCUA_SMS_LOG_FORMAT": "json"},
        )  # fmt: skip
    assert daemon.stdout is not None
    read = asyncio.create_task(daemon.stdout.read())

    async def connected() -> bool:
        try:
            _, body = await http_get(admin_port, "/healthz")
        except OSError:
            return False
        return json.loads(body).get("broker") == "connected"

    try:
        await eventually(connected, timeout, poll=0.1)
    finally:
        code = await stop_daemon(daemon)
    out = await read
    assert code == 0, f"the daemon ended with {code}"
    return set(out.decode().split())
