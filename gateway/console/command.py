"""`motcua-sms console -c FILE`: the console's process.

The store is opened read-only, as `report` opens it, for each read (`reading`): the
console never takes the daemon's lock and never writes, so the daemon goes on whatever the
console does. The process ends
on SIGTERM or SIGINT.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from gateway.console.app import serve
from gateway.console.context import Console
from gateway.console.reading import StoreFigures
from gateway.settings.agencies import AgencyConfig
from gateway.settings.console import ConsoleConfig
from gateway.settings.loader import ConfigError

NO_USERS = (
    "no users under console.users; add one with the hash that `motcua-sms console-password` prints"
)


def run_console(
    settings: ConsoleConfig,
    store_path: str,
    zone: ZoneInfo,
    segment_price: int,
    agencies: Mapping[str, AgencyConfig],
    source: str | None = None,
    zns_price: int = 0,
    password: str | None = None,
) -> int:
    """Serve until a signal. Start-up refusals: ConfigError when nobody could log in (in
    the configuration file `source`), StoreError when the store cannot be read (none
    there, not one, of a newer version)."""
    if not settings.users:
        raise ConfigError(NO_USERS, key="console.users", path=source)
    names = {code: agency.name for code, agency in agencies.items()}
    figures = StoreFigures(store_path, zone, segment_price, zns_price, password)
    return asyncio.run(_serve(settings, figures, zone, names))


async def _serve(
    settings: ConsoleConfig,
    figures: StoreFigures,
    zone: ZoneInfo,
    agencies: Mapping[str, str],
) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await figures.check()
    await serve(Console(settings, figures, dict(agencies), zone), stop)
    return 0
