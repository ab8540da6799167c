"""One persistent MQTT 5 session to the broker, with acknowledgements under our control.

    async with MqttLink(settings, ["motcua/+/dossier", "motcua/+/sms"]) as link:
        async for message in link.messages():
            ...commit it to the store...
            await link.ack(message)

aiomqtt 2.x acknowledges a QoS 1 message as soon as it arrives, so a crash before the
message reaches the store would lose it. Here paho's manual acknowledgement is switched
on, and a message is acknowledged only when the caller says its effects are committed.
Manual acks are switched on *before* connecting: the broker sends what it holds for the
session right behind CONNACK, and anything read before the switch would be auto-acked.

The session is persistent (clean_start=False, a session expiry), so the broker keeps our
subscriptions and queues QoS 1 messages while we are away, and sends every message we
did not acknowledge again when we come back. One background task connects, subscribes
(again on every connection), feeds `messages()` and reconnects with capped exponential
back-off and jitter; it never gives up while the link is open. What the session holds
comes right behind CONNACK, ahead of the SUBACK, and is handed out (and its acks sent)
while the SUBACK is awaited (`Connection.begin`): a session holding more than the
Receive Maximum is answered once they are acknowledged.

Each connection is a new aiomqtt client, and a message remembers the one it came on.
Packet ids are per connection, so a message is acknowledged only on the connection it
came from; if that connection is gone, `ack()` does nothing and the broker delivers the
message again on the next one. The store's idempotency (event ids, job ids) makes that
second delivery harmless.

What the broker refuses is never taken as done: a QoS 1 publish answered with a failure
reason code (MQTT 5; mosquitto 2.0 answers an ACL-denied publish with PUBACK 0x87) is
retried with back-off until accepted, and a subscription refused in the SUBACK is asked
for again; `degraded` says so meanwhile, for /healthz.

The queue is bounded by flow control, not by dropping: once `receive_maximum`
messages are unacknowledged, the link stops reading the socket until half of them are
acknowledged, and the broker keeps the rest (TCP pushes back). MQTT 5's Receive Maximum
says the same to the broker, but mosquitto 2.0 sends far beyond it (tens of thousands of
messages queued here, hundreds of MB, when a burst arrives faster than the store
commits). aiomqtt's own bound (`max_queued_incoming_messages`) would drop overflow *and*
acknowledge it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Sequence
from types import TracebackType
from typing import TypeVar

import aiomqtt
import structlog
from paho.mqtt.subscribeoptions import SubscribeOptions

from gateway.backoff import Backoff
from gateway.mqtt.client import new_client
from gateway.mqtt.connection import Connection, Inbound, RefusedError
from gateway.mqtt.publish import PUBLISH_CONCURRENCY, OrderedPublishing
from gateway.mqtt.settings import MqttSettings, TlsSettings

__all__ = [
    "PUBLISH_CONCURRENCY",
    "Inbound",
    "LinkClosedError",
    "MqttLink",
    "MqttSettings",
    "RefusedError",
    "TlsSettings",
]

log = structlog.get_logger("gateway.mqtt.link")

T = TypeVar("T")

# A connection that stayed up this long (seconds) starts the back-off from the bottom
# again; one that drops sooner (a broker refusing us right after CONNACK, two daemons
# sharing a client id and taking the session from each other) keeps climbing.
STABLE_AFTER = 30.0


class LinkClosedError(Exception):
    """The link is closed (or was never opened): nothing more can be published."""


class MqttLink(OrderedPublishing):
    """One persistent MQTT 5 session (clean_start=False + session expiry), manual acks,
    reconnects.

    Subscribes to `subscriptions` (QoS 1) on every connection. Reusable, not reentrant.
    """

    def __init__(self, settings: MqttSettings, subscriptions: Sequence[str]) -> None:
        self.settings = settings
        # The filters given (intake's); what a takeover of another daemon's session
        # unsubscribes it from (gateway/mqtt/adopt.py).
        self.filters = tuple(subscriptions)
        # Shared intake: the others' wills too (gateway/mqtt/adopt.py), not shared, so
        # that every daemon hears of a session left with nobody.
        gone = (settings.gone_topic,) if settings.gone_topic is not None else ()
        self.subscriptions = self.filters + gone
        self._task: asyncio.Task[None] | None = None
        self._connection: Connection | None = None
        self._connections = 0
        self._had_session = False
        self._refusing = 0
        # Refusals since the link was made, for the metrics.
        self.publish_refusals = 0
        self.subscription_refusals = 0
        self._connected = asyncio.Event()
        self._closed = asyncio.Event()
        self._closed.set()
        self._queue: asyncio.Queue[Inbound | None] = asyncio.Queue()
        self._queue.put_nowait(None)
        # Passed with each event rather than bound once, so the logging configuration in
        # force when the event happens applies.
        self._ident = {
            "broker": f"{settings.host}:{settings.port}",
            "client_id": settings.client_id,
        }

    # -- lifecycle -------------------------------------------------------------------

    async def __aenter__(self) -> MqttLink:
        if self._task is not None:
            raise RuntimeError("MqttLink is reusable, but not reentrant")
        self._queue = asyncio.Queue()
        self._closed.clear()
        self._task = asyncio.create_task(
            self._run(), name=f"mqtt[{self.settings.client_id}].connection"
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Disconnect (unacknowledged messages stay with the broker) and end `messages()`."""
        task, self._task = self._task, None
        if task is None:
            return
        self._closed.set()
        if self.settings.gone_topic is not None and self._connection is not None:
            # What we did not acknowledge stays in our session, which keeps its share of
            # the group's messages: the will hands it to another daemon.
            self._connection.leave(will=True)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
        finally:
            # What is still queued was never acknowledged: the broker has it.
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(None)

    # -- public ----------------------------------------------------------------------

    @property
    def unacknowledged(self) -> int:
        """Messages read on the current connection and not yet acknowledged."""
        connection = self._connection
        return connection.outstanding if connection is not None else 0

    @property
    def connected_since(self) -> float | None:
        """When (time.monotonic) the current connection was made; None while there is none."""
        connection = self._connection
        return connection.up_since if connection is not None and connection.alive else None

    @property
    def connected(self) -> bool:
        return self._connection is not None and self._connection.alive

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Return once connected and subscribed.

        Raises TimeoutError after `timeout` seconds, LinkClosedError if the link closes.
        """
        async with asyncio.timeout(timeout):
            await self._live_connection()

    async def messages(self) -> AsyncIterator[Inbound]:
        """Messages from every connection in turn; ends only when the link is closed.

        A message handed out here may belong to a connection that has since dropped;
        acknowledging it then does nothing, and the broker delivers it again.
        """
        while True:
            message = await self._queue.get()
            if message is None:
                self._queue.put_nowait(None)  # for any other reader
                return
            yield message

    async def ack(self, message: Inbound) -> None:
        """Acknowledge `message` on the connection it came on; call after committing it.

        If that connection is gone (or the message was acknowledged already), this does
        nothing and never raises: the broker still holds the message and delivers it
        again after the reconnect, and the store's idempotency makes the repeat harmless.
        """
        if message.connection is not None:
            message.connection.ack(message)

    @property
    def refused_subscriptions(self) -> tuple[str, ...]:
        """Topics the broker refused to subscribe us to on the current connection."""
        connection = self._connection
        return connection.refused_topics if connection is not None else ()

    @property
    def refused_publishes(self) -> int:
        """Publishes waiting to be tried again because the broker refused them."""
        return self._refusing

    @property
    def degraded(self) -> bool:
        """Connected, but the broker refuses some of what we must do (ACL, quota)."""
        return bool(self._refusing or self.refused_subscriptions)

    # -- connection task -------------------------------------------------------------

    async def _run(self) -> None:
        failures = 0
        while not self._closed.is_set():
            self._connections += 1
            connection: Connection | None = None
            try:
                limit = self.settings.receive_maximum
                connection = Connection(new_client(self.settings), self._connections, limit=limit)
                await self._serve(connection)
                reason = "disconnected"
            except aiomqtt.MqttError as exc:
                reason = _reason(exc)
            except Exception as exc:
                # Not expected from aiomqtt; keep the link alive, loudly.
                log.exception("mqtt_link_error", **self._ident)
                reason = repr(exc)
            if self._closed.is_set():
                return
            up = connection.up_since if connection is not None else None
            if up is not None and time.monotonic() - up >= STABLE_AFTER:
                failures = 0
            delay = self._backoff(failures)
            failures += 1
            event = "mqtt_connect_failed" if up is None else "mqtt_connection_lost"
            log.warning(event, **self._ident, reason=reason, retry_in=round(delay, 2))
            await asyncio.sleep(delay)

    async def _serve(self, connection: Connection) -> None:
        client = connection.client
        connection.hook(
            deliver=lambda inbound: self._queue.put_nowait(inbound),
            max_payload=self.settings.max_payload,
        )
        async with client:
            retry: asyncio.Task[None] | None = None
            try:
                # The session's messages are handed out while the SUBACK is awaited: it
                # comes behind them (Connection.begin).
                connection.begin()
                connection.refused_topics = await connection.answer(
                    self._subscribe(client, self.subscriptions)
                )
                if connection.refused_topics:
                    retry = asyncio.create_task(self._resubscribe(connection))
                self._connection = connection
                self._connected.set()
                self._log_connected(connection)
                await connection.closed()
            finally:
                if retry is not None:
                    retry.cancel()
                connection.end()
                if self._connection is connection:
                    self._connection = None
                    self._connected.clear()

    async def _subscribe(self, client: aiomqtt.Client, topics: Sequence[str]) -> tuple[str, ...]:
        """Subscribe to `topics` at QoS 1; the ones the broker refused (or granted at QoS 0:
        no acknowledgement, nothing redelivered), logged and counted."""
        if not topics:
            return ()
        if self.settings.protocol == "3.1.1":
            granted = await client.subscribe([(topic, 1) for topic in topics])
        else:
            granted = await client.subscribe([(topic, SubscribeOptions(qos=1)) for topic in topics])
        refused = []
        for topic, code in zip(topics, granted, strict=False):
            value = code if isinstance(code, int) else code.value
            if value != 1:
                refused.append(topic)
                log.error(
                    "mqtt_subscription_not_granted", **self._ident, topic=topic, answer=str(code)
                )
        self.subscription_refusals += len(refused)
        return tuple(refused)

    async def _resubscribe(self, connection: Connection) -> None:
        """Ask again, with back-off, for what the broker refused, while this connection
        lasts: an ACL fixed on the broker takes effect without a restart."""
        attempt = 0
        while connection.refused_topics:
            await asyncio.sleep(self._backoff(attempt))
            attempt += 1
            try:
                connection.refused_topics = await self._subscribe(
                    connection.client, connection.refused_topics
                )
            except aiomqtt.MqttError:
                return  # the connection is going; the next one subscribes to everything
        log.info("mqtt_subscriptions_granted", **self._ident, connection=connection.number)

    def _log_connected(self, connection: Connection) -> None:
        fields = {
            **self._ident,
            "connection": connection.number,
            "session_present": connection.session_present,
        }
        if self._had_session and not connection.session_present:
            # The broker lost or expired our session: what it queued for us is gone.
            log.warning("mqtt_session_lost", **fields)
        else:
            log.info("mqtt_connected", **fields)
        self._had_session = True

    # -- helpers ---------------------------------------------------------------------

    async def _live_connection(self) -> Connection:
        while True:
            if self._closed.is_set():
                raise LinkClosedError("MQTT link is closed")
            connection = self._connection
            if connection is not None and connection.alive:
                return connection
            await self._wait_any(self._closed, self._connected)

    async def _on(self, connection: Connection, work: Awaitable[T]) -> T:
        """Await `work`, unless `connection` drops first (then raise MqttError)."""
        task = asyncio.ensure_future(work)
        lost = asyncio.ensure_future(connection.lost.wait())
        try:
            done, _ = await asyncio.wait((task, lost), return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
            if not task.done():
                task.cancel()
        if task not in done:
            raise aiomqtt.MqttError("connection lost")
        return task.result()

    @staticmethod
    async def _wait_any(*events: asyncio.Event, timeout: float | None = None) -> None:
        waiters = [asyncio.ensure_future(event.wait()) for event in events]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _backoff(self, failures: int) -> float:
        settings = self.settings
        return Backoff(settings.reconnect_min, settings.reconnect_max).delay(failures)


def _reason(exc: BaseException) -> str:
    """What ended a connection: aiomqtt wraps the cause ("Disconnected during ...")."""
    cause = exc.__cause__ or exc
    return str(cause) or type(cause).__name__
