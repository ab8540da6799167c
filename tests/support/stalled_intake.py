"""Shared intake (`serve_intake`, takeovers included) in a process of its own whose store
refuses commits: a daemon whose commits fail (PostgreSQL unreachable) and are retried.

    python tests/support/stalled_intake.py HOST PORT CLIENT_ID PREFIX GROUP HANDOVER_DELAY [STALL]

Prints `connected`, then `got <topic> <payload>` for each message intake hands to the
store, which refuses it (intake retries it with back-off): nothing is acknowledged, not
its own jobs nor those of a session it takes over. A test SIGKILLs it, e.g. in the middle
of a takeover. With STALL (seconds), the store refuses commits only that long after
start-up, then takes each (printing `committed <payload>`), and intake acknowledges it.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.support.shared_member import Member

SCRIPT = Path(__file__).resolve()


def stalled_intake(
    host: str, port: int, client_id: str, prefix: str, group: str, handover_delay: int,
    stall: float | None = None,
) -> AbstractContextManager[Member]:
    """This script in a process of its own (a `Member`), killed on the way out."""
    from tests.support.shared_member import running

    command = [sys.executable, str(SCRIPT), host, str(port), client_id, prefix, group,
               str(handover_delay)] + ([str(stall)] if stall is not None else [])  # fmt: skip
    return running(command)


class _Stalled:
    def __init__(self, stall: float | None) -> None:
        self.until = None if stall is None else time.monotonic() + stall

    async def process(self, items: Sequence[Any]) -> None:
        if self.until is not None and time.monotonic() >= self.until:
            for item in items:
                print("committed", item.payload.decode(), flush=True)
            return
        for item in items:
            print("got", item.topic, item.payload.decode(), flush=True)
        # Failing, not hanging: intake tries each again with back-off, acknowledging
        # nothing, and the batcher stays free for what comes next.
        raise OSError("the store does not answer")


async def _main(
    host: str, port: int, client_id: str, prefix: str, group: str, delay: int,
    stall: float | None,
) -> None:
    from gateway.intake.serving import intake_filters, serve_intake
    from gateway.mqtt.link import MqttLink
    from gateway.settings.mqtt import MqttConfig

    section = MqttConfig(
        host=host, port=port, client_id=client_id, topic_prefix=prefix, shared_group=group,
        handover_delay=delay, keepalive=5,
    )  # fmt: skip
    async with MqttLink(section.link_settings(), intake_filters(prefix, group)) as link:
        await link.wait_connected(10)
        print("connected", flush=True)
        async with asyncio.timeout(120):  # never outlives a test that forgot it
            await serve_intake(link, _Stalled(stall))  # type: ignore[arg-type]


if __name__ == "__main__":
    sys.path.insert(0, str(SCRIPT.parents[2]))
    host, port, client_id, prefix, group, delay = sys.argv[1:7]
    stall = float(sys.argv[7]) if len(sys.argv) > 7 else None
    asyncio.run(_main(host, int(port), client_id, prefix, group, int(delay), stall))
