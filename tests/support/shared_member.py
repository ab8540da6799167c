"""A member of a shared subscription in a process of its own, so that a test can kill it.

    python tests/support/shared_member.py HOST PORT CLIENT_ID FILTER EXPIRY [--ack]

Connects with MQTT 5, clean_start=False and the given session expiry, manual
acknowledgements on, subscribes FILTER at QoS 1 and prints one line per event:
`connected <session_present>`, `subscribed`, `got <payload>`. Without `--ack` it never
acknowledges (the messages it holds are in flight, as ours are until the store commits);
with `--ack` it acknowledges each after printing it. SIGKILL drops its connection with no
DISCONNECT, as a crash of the daemon does.
"""

from __future__ import annotations

import contextlib
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve()


class Member:
    """A member's process (`command`: this script's, or held_intake.py's) and the lines
    it printed."""

    def __init__(self, command: list[str]) -> None:
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        self._lines: queue.Queue[str] = queue.Queue()
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))

    def _collect(self) -> None:
        with contextlib.suppress(queue.Empty):
            while True:
                self.lines.append(self._lines.get_nowait())

    @property
    def got(self) -> list[str]:
        """The payloads received so far, in order."""
        self._collect()
        return [line[4:] for line in self.lines if line.startswith("got ")]

    @property
    def session_present(self) -> bool | None:
        self._collect()
        for line in self.lines:
            if line.startswith("connected "):
                return line == "connected True"
        return None

    async def wait_for(self, what: str, timeout: float = 5.0) -> None:
        """Until the member printed the line `what` (bounded)."""
        # Here, not at the top: this file is also the member's own script, run where
        # the tests are not importable.
        from tests.support.wait import eventually

        def printed() -> bool:
            self._collect()
            return what in self.lines

        await eventually(printed, timeout)

    def kill(self) -> None:
        """SIGKILL: the kernel closes the socket; the broker gets no DISCONNECT."""
        self.process.kill()
        self.process.wait(10)


@contextlib.contextmanager
def running(command: list[str]) -> Iterator[Member]:
    """A `Member` running `command`, killed on the way out."""
    process = Member(command)
    try:
        yield process
    finally:
        process.kill()


def member(
    host: str, port: int, client_id: str, topic_filter: str, expiry: int, *, ack: bool = False
) -> contextlib.AbstractContextManager[Member]:
    """This script as a member (see the module's docstring), killed on the way out."""
    command = [sys.executable, str(SCRIPT), host, str(port), client_id, topic_filter,
               str(expiry)] + (["--ack"] if ack else [])  # fmt: skip
    return running(command)


def _main(argv: list[str]) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties
    from paho.mqtt.subscribeoptions import SubscribeOptions

    host, port, client_id, topic_filter, expiry = argv[:5]
    ack = "--ack" in argv[5:]
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
    )
    client.manual_ack_set(True)

    def connected(c: Any, userdata: Any, flags: Any, code: Any, props: Any) -> None:
        print("connected", bool(flags.session_present), flush=True)
        c.subscribe(topic_filter, options=SubscribeOptions(qos=1))

    def subscribed(*_: Any) -> None:
        print("subscribed", flush=True)

    def message(c: Any, userdata: Any, msg: Any) -> None:
        print("got", msg.payload.decode(), flush=True)
        if ack:
            c.ack(msg.mid, msg.qos)

    client.on_connect = connected
    client.on_subscribe = subscribed
    client.on_message = message
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = int(expiry)
    client.connect(host, int(port), keepalive=5, clean_start=False, properties=properties)
    deadline = time.monotonic() + 120  # never outlives a test that forgot it
    while time.monotonic() < deadline:
        client.loop(0.1)


if __name__ == "__main__":
    _main(sys.argv[1:])
