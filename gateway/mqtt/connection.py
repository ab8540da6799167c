"""One connection of the MQTT link: acknowledgements, flow control, answered publishes.

aiomqtt 2.x gives no manual acknowledgement, no control over reading the socket, and
drops the reason code of a PUBACK (a publish the broker refused returns as if done). The
few uses of aiomqtt's and paho's internals that this needs are all here, in `Connection`
and `hook()`:

- `client._client` (the paho client): `manual_ack_set()`, `ack()`, `publish()` and its
  callbacks, which are paho's public API, wrapped around aiomqtt's own callbacks;
- `client._disconnected` (aiomqtt's future), failed when our own reader fails, as
  aiomqtt's reader does;
- the event loop reader of the paho socket, removed and added again for flow control.

This is the only module of the gateway that reaches into any library's internals
(tests/mqtt/test_fence.py fails on a private attribute used anywhere else, and on one
used here that `FENCED` does not name). Fenced rather than replaced by our own asyncio
adapter on paho: aiomqtt's connect, TLS, subscribe and SUBACK handling, keep-alive and
disconnect detection are all used as they are, and what we change is four callbacks
and one reader; an adapter of our own would re-implement all of that to remove two
attribute reads. The price is that an aiomqtt release may move them, so the
behaviours relied on are pinned by tests against a real mosquitto for the versions in
`CHECKED_WITH` (tests/mqtt/test_fence.py): manual acknowledgements switched on before
CONNECT, flow control by the socket reader, a failed read of our reader ending
`client.messages`, PUBACK reason codes, CONNACK's session-present flag. Upgrading
either library means running those tests and changing `CHECKED_WITH` with the pin.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiomqtt
from paho.mqtt.client import MQTT_ERR_SUCCESS
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

__all__ = ["CHECKED_WITH", "FENCED", "Connection", "Inbound", "RefusedError"]

# The releases the behaviours above were checked on (pyproject.toml pins the same).
CHECKED_WITH = {"aiomqtt": "2.5.1", "paho-mqtt": "2.2.0"}
# The private attributes of aiomqtt's client used here, and nowhere else.
FENCED = frozenset({"_client", "_disconnected"})

T = TypeVar("T")


class RefusedError(aiomqtt.MqttError):
    """The broker answered a publish with a failure reason code (MQTT 5: ACL, quota)."""

    def __init__(self, topic: str, reason: str) -> None:
        super().__init__(f"broker refused publish to {topic}: {reason}")
        self.topic = topic
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Inbound:
    """A message from the broker, to be acknowledged with `MqttLink.ack` once committed."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    # Bytes of payload not kept because the message exceeded `max_payload`; see MqttLink.
    dropped: int = 0
    # The connection it came on; None for messages made by hand (tests, replays).
    connection: Connection | None = field(default=None, repr=False, compare=False)


class Connection:
    """One connected aiomqtt client. Its messages can be acknowledged on it alone."""

    def __init__(self, client: aiomqtt.Client, number: int, *, limit: int) -> None:
        self.client = client
        self.number = number
        self.session_present = False
        self.up_since: float | None = None
        self.lost = asyncio.Event()
        # Received and not yet acknowledged, by packet id. The broker reuses a packet id
        # once it is acknowledged, so a second ack of an old message must not reach the
        # wire: it would acknowledge a newer message that has not been committed.
        self.unacked: dict[int, Inbound] = {}
        # Read off the socket and not yet acknowledged, counted as paho hands them over
        # (aiomqtt queues them before `unacked` sees them): what flow control limits.
        self.outstanding = 0
        self.limit = limit
        self.paused = False
        # Subscriptions the broker refused (or granted below QoS 1) on this connection.
        self.refused_topics: tuple[str, ...] = ()
        self._socket: int | None = None
        self._deliver: Callable[[Inbound], None] | None = None
        self._reader: asyncio.Task[None] | None = None
        # QoS 1 publishes awaiting their PUBACK, by packet id: the reason code goes here.
        self._pubacks: dict[int, asyncio.Future[ReasonCode | None]] = {}

    @property
    def alive(self) -> bool:
        return self.up_since is not None and not self.lost.is_set()

    def ack(self, message: Inbound) -> None:
        if not self.alive or self.unacked.get(message.mid) is not message:
            return
        del self.unacked[message.mid]
        self.client._client.ack(message.mid, message.qos)
        self.outstanding -= 1
        if self.paused and self.outstanding <= self.limit // 2:
            self._resume()

    async def publish(self, topic: str, payload: bytes, *, qos: int, retain: bool) -> None:
        """Publish and, for QoS 1, wait for the PUBACK; RefusedError if it is a refusal."""
        await self.send(topic, payload, qos=qos, retain=retain)

    def send(self, topic: str, payload: bytes, *, qos: int, retain: bool) -> asyncio.Future[None]:
        """Hand the publish to paho now, so publishes go out in the order of these calls;
        the future is its PUBACK (RefusedError if it is a refusal), cancellable.

        Through paho rather than aiomqtt's `publish`, which throws the reason code away.
        MQTT 3.1.1 has no reason codes: every PUBACK is an acceptance there.
        """
        info = self.client._client.publish(topic, payload, qos, retain)
        if info.rc != MQTT_ERR_SUCCESS:
            raise aiomqtt.MqttCodeError(info.rc, "Could not publish message")
        if qos == 0:
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done
        answer: asyncio.Future[ReasonCode | None] = asyncio.get_running_loop().create_future()
        self._pubacks[info.mid] = answer
        return asyncio.ensure_future(self._answered(topic, info.mid, answer))

    async def _answered(
        self, topic: str, mid: int, answer: asyncio.Future[ReasonCode | None]
    ) -> None:
        try:
            code = await answer
        finally:
            if self._pubacks.get(mid) is answer:
                del self._pubacks[mid]
        if code is not None and code.is_failure:
            raise RefusedError(topic, str(code))

    def hook(self, *, deliver: Callable[[Inbound], None], max_payload: int | None) -> None:
        """Put our callbacks in front of aiomqtt's on the paho client, before connecting;
        `deliver` is given each message read (`begin`).

        - manual acknowledgements, switched on before CONNECT: the broker sends what it
          holds for the session right behind CONNACK, and anything read before the switch
          would be auto-acknowledged;
        - CONNACK's session-present flag;
        - the socket, which flow control pauses;
        - each message as paho hands it over, counted for flow control, and replaced by
          its size alone when over `max_payload` (given to `deliver` at once): up to
          `receive_maximum` messages wait in aiomqtt's queue, and a window of 400 KB
          payloads would be 400 MB;
        - PUBACKs with their reason codes, which aiomqtt ignores.
        """
        self._deliver = deliver
        paho = self.client._client
        paho.manual_ack_set(True)
        on_connect = paho.on_connect
        on_socket_open = paho.on_socket_open
        on_message = paho.on_message
        on_publish = paho.on_publish

        def connected(
            client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any = None
        ) -> None:
            self.session_present = bool(flags.session_present)
            on_connect(client, userdata, flags, reason_code, properties)

        def socket_open(client: Any, userdata: Any, sock: Any) -> None:
            # Called on the connecting thread.
            self.opened(sock.fileno())
            on_socket_open(client, userdata, sock)

        def message(client: Any, userdata: Any, msg: Any) -> None:
            if msg.qos > 0:
                self.took()
            if max_payload is not None and len(msg.payload) > max_payload:
                self.deliver(
                    Inbound(topic=msg.topic, payload=b"", mid=msg.mid, qos=msg.qos,
                            dropped=len(msg.payload), connection=self)
                )  # fmt: skip
                return
            on_message(client, userdata, msg)

        def answered(client: Any, userdata: Any, mid: int, code: Any, properties: Any) -> None:
            answer = self._pubacks.get(mid)
            if answer is not None and not answer.done():
                answer.set_result(code if isinstance(code, ReasonCode) else None)
            on_publish(client, userdata, mid, code, properties)

        paho.on_connect = connected
        paho.on_socket_open = socket_open
        paho.on_message = message
        paho.on_publish = answered

    def deliver(self, inbound: Inbound) -> None:
        """Hand `inbound` out; one to acknowledge (QoS > 0) is remembered until it is."""
        if inbound.qos > 0:
            self.unacked[inbound.mid] = inbound
        assert self._deliver is not None, "hook() first"
        self._deliver(inbound)

    def begin(self) -> None:
        """Connected (CONNACK): from now on every message is handed out and its ack sent,
        also while a SUBSCRIBE or UNSUBSCRIBE awaits its answer (`answer`).

        The broker sends what the session holds right behind CONNACK, ahead of any
        answer, and the socket is not read while `limit` messages are unacknowledged
        (flow control): a session holding that many would never be answered, the request
        would time out and the connection start again, forever, if its messages waited
        for the answer.
        """
        self.up_since = time.monotonic()
        self._reader = asyncio.create_task(self._read(), name=f"mqtt.connection[{self.number}]")

    async def answer(self, request: Awaitable[T]) -> T:
        """What `request` returns (a SUBACK's, an UNSUBACK's answer), messages handed out
        meanwhile; MqttError if the connection drops first."""
        assert self._reader is not None, "begin() first"
        task = asyncio.ensure_future(request)
        try:
            await asyncio.wait((task, self._reader), return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not task.done():
                task.cancel()
        if task.done() and not task.cancelled():
            return task.result()
        await self.closed()
        raise aiomqtt.MqttError("connection closed")  # not reached: closed() raises

    def check(self) -> None:
        """Raise MqttError if the connection has dropped; nothing while it lasts."""
        if self._reader is not None and self._reader.done():
            self._reader.result()
            raise aiomqtt.MqttError("connection closed")

    async def closed(self) -> None:
        """Until the connection drops; raises MqttError (the cause, or "connection closed")."""
        assert self._reader is not None, "begin() first"
        await asyncio.shield(self._reader)
        raise aiomqtt.MqttError("connection closed")

    def end(self) -> None:
        """Gone: reading stops, and no ack of its messages is sent any more (the broker
        delivers them again on the session's next connection)."""
        self.lost.set()
        self.unacked.clear()
        reader, self._reader = self._reader, None
        if reader is None:
            return
        if reader.done():
            if not reader.cancelled():
                reader.exception()  # seen: the caller has what ended the connection
        else:
            reader.cancel()

    async def _read(self) -> None:
        async for message in self.client.messages:
            self.deliver(
                Inbound(
                    topic=message.topic.value,
                    payload=bytes(message.payload),  # type: ignore[arg-type]
                    mid=message.mid,
                    qos=message.qos,
                    connection=self,
                )
            )

    def leave(self, *, will: bool = False, end_session: bool = False) -> None:
        """Say how the next DISCONNECT (aiomqtt's, when the client's context closes) ends
        this connection: `will` asks the broker to publish our will all the same (MQTT 5
        reason 0x04: a daemon that stops leaves its session to the others, as one that
        dies does); `end_session` sets the session expiry to 0, so the broker forgets the
        session (and stops routing shared messages to it) once the connection closes.

        Through paho's `disconnect(reasoncode, properties)`, which aiomqtt calls with
        neither.
        """
        paho = self.client._client
        reason = ReasonCode(PacketTypes.DISCONNECT, "Disconnect with will message" if will
                            else "Normal disconnection")  # fmt: skip
        properties = None
        if end_session:
            properties = Properties(PacketTypes.DISCONNECT)
            properties.SessionExpiryInterval = 0
        disconnect = type(paho).disconnect
        paho.disconnect = functools.partial(disconnect, paho, reason, properties)

    def opened(self, socket: int) -> None:
        self._socket = socket

    def took(self) -> None:
        """One more message read (QoS 1): stop reading once `limit` are outstanding."""
        self.outstanding += 1
        if not self.paused and self.outstanding >= self.limit and self._socket is not None:
            asyncio.get_running_loop().remove_reader(self._socket)
            self.paused = True

    def _resume(self) -> None:
        self.paused = False
        if self._socket is None or self.lost.is_set():
            return
        paho = self.client._client
        disconnected = self.client._disconnected

        def read() -> None:
            # As aiomqtt's own reader: a failed read means the connection is gone, and a
            # TLS socket may hold decrypted bytes that no new readiness will announce.
            try:
                while True:
                    paho.loop_read()
                    sock = paho.socket()
                    if not (hasattr(sock, "pending") and sock.pending() > 0):
                        break
            except Exception as exc:
                if not disconnected.done():
                    disconnected.set_exception(exc)

        asyncio.get_running_loop().add_reader(self._socket, read)
