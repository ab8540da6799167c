"""The gateway's MQTT link, shared intake, in a process of its own that never commits.

    python tests/support/held_intake.py HOST PORT CLIENT_ID PREFIX GROUP HANDOVER_DELAY

Opens `MqttLink` as the daemon does with `mqtt.shared_group` (its will included), and
prints `connected`, then `got <topic> <payload>` for each message, which it never
acknowledges: it holds them as a daemon holds what its store has not committed yet. A
test kills it with SIGKILL (no DISCONNECT) to see where those messages go.
"""

from __future__ import annotations

import asyncio
import sys
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.intake.serving import intake_filters
from gateway.settings.mqtt import MqttConfig

if TYPE_CHECKING:
    from tests.support.shared_member import Member

SCRIPT = Path(__file__).resolve()


def held_intake(
    host: str, port: int, client_id: str, prefix: str, group: str, handover_delay: int
) -> AbstractContextManager[Member]:
    """This script in a process of its own (a `Member`), killed on the way out."""
    from tests.support.shared_member import running

    command = [sys.executable, str(SCRIPT), host, str(port), client_id, prefix, group,
               str(handover_delay)]  # fmt: skip
    return running(command)


async def _main(host: str, port: int, client_id: str, prefix: str, group: str, delay: int) -> None:
    from gateway.mqtt.link import MqttLink

    section = MqttConfig(
        host=host, port=port, client_id=client_id, topic_prefix=prefix, shared_group=group,
        handover_delay=delay, keepalive=5,
    )  # fmt: skip
    async with MqttLink(section.link_settings(), intake_filters(prefix, group)) as link:
        await link.wait_connected(10)
        print("connected", flush=True)
        async with asyncio.timeout(120):  # never outlives a test that forgot it
            async for message in link.messages():
                print("got", message.topic, message.payload.decode(), flush=True)


if __name__ == "__main__":
    host, port, client_id, prefix, group, delay = sys.argv[1:7]
    asyncio.run(_main(host, int(port), client_id, prefix, group, int(delay)))
