"""Publishing on the MQTT link: in order, pipelined, and patient with a broker that refuses.

Part of `MqttLink` (gateway.mqtt.link), kept apart because it is one concept: a sequence of
QoS 1 publishes to one topic reaches the broker in its order, whatever happens between
(a refusal, a lost connection), and a refusal is one episode with one back-off and one
log line at each end, not one per attempt of each publish.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import aiomqtt
import structlog

from gateway.mqtt.connection import Connection, RefusedError

log = structlog.get_logger("gateway.mqtt.link")

T = TypeVar("T")

# QoS 1 publishes awaiting their PUBACK at once, at most, for whoever publishes in bulk.
# aiomqtt counts its pending calls on every PUBACK, so the cost grows with the square of
# this number: 100 keeps the round trip overlapped without that cost showing.
PUBLISH_CONCURRENCY = 100


class OrderedPublishing:
    """`publish` and `publish_all` for MqttLink, which provides the connection, the
    back-off and the refusal counters declared here."""

    _refusing: int
    publish_refusals: int
    _ident: dict[str, str]
    _closed: asyncio.Event

    async def _live_connection(self) -> Connection:
        raise NotImplementedError

    async def _on(self, connection: Connection, work: Awaitable[T]) -> T:
        raise NotImplementedError

    @staticmethod
    async def _wait_any(*events: asyncio.Event, timeout: float | None = None) -> None:
        raise NotImplementedError

    def _backoff(self, failures: int) -> float:
        raise NotImplementedError

    async def publish(
        self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False
    ) -> None:
        """Publish and, for QoS 1, return once the broker has accepted it (`publish_all`
        of one)."""
        await self.publish_all(topic, [payload], qos=qos, retain=retain)

    async def publish_all(
        self,
        topic: str,
        payloads: Sequence[bytes],
        *,
        qos: int = 1,
        retain: bool = False,
        accepted: Callable[[int], None] | None = None,
    ) -> None:
        """Publish `payloads` to `topic` in this order; return once the broker has
        accepted every one. `accepted(n)` is told each time the first n are accepted.

        Pipelined, up to PUBLISH_CONCURRENCY awaiting their PUBACK on one connection:
        MQTT keeps the order of QoS 1 publishes on one connection. Waits for a connection
        if there is none. When one is not accepted (the connection drops before its
        PUBACK, or the broker refuses it: an MQTT 5 reason code such as 0x87 Not
        authorized), it and everything after it are published again from there, so the
        broker never has a newer one before an older one (the ones after it possibly
        twice: at least once). While the broker refuses, only the oldest is tried, with
        back-off, so none of the rest gets ahead of it once it is allowed; the episode is
        counted in `refused_publishes` and logged once when it starts and once when it
        ends. Raises LinkClosedError only when the link closes.
        """
        done = 0
        refusals = 0
        try:
            while done < len(payloads):
                connection = await self._live_connection()
                size = 1 if refusals else PUBLISH_CONCURRENCY
                window = payloads[done : done + size]
                taken, failure = await self._in_order(connection, topic, window, qos, retain)
                if taken:
                    done += taken
                    if accepted is not None:
                        accepted(done)
                    if refusals:
                        log.info("mqtt_publish_allowed", **self._ident, topic=topic,
                                 refused=refusals)  # fmt: skip
                        self._refusing -= 1
                        refusals = 0
                if isinstance(failure, RefusedError):
                    self.publish_refusals += 1
                    delay = self._backoff(refusals)
                    if not refusals:
                        self._refusing += 1
                        log.error("mqtt_publish_refused", **self._ident, topic=topic,
                                  reason=failure.reason, waiting=len(payloads) - done,
                                  retry_in=round(delay, 2))  # fmt: skip
                    refusals += 1
                    await self._wait_any(self._closed, timeout=delay)
                elif failure is not None:
                    # The connection is going; wait for the next one, or retry shortly if
                    # paho refused while the connection still looked alive.
                    await self._wait_any(self._closed, connection.lost, timeout=self._backoff(0))
        finally:
            if refusals:
                self._refusing -= 1

    async def _in_order(
        self, connection: Connection, topic: str, payloads: Sequence[bytes], qos: int,
        retain: bool,
    ) -> tuple[int, Exception | None]:  # fmt: skip
        """Send `payloads` on `connection` in order; how many leading ones the broker
        accepted, and what stopped the next one (None if none did)."""
        answers: list[asyncio.Future[None]] = []
        failure: Exception | None = None
        try:
            for payload in payloads:
                answers.append(connection.send(topic, payload, qos=qos, retain=retain))
        except aiomqtt.MqttError as exc:
            failure = exc
        taken = 0
        try:
            for answer in answers:
                await self._on(connection, answer)
                taken += 1
        except (RefusedError, aiomqtt.MqttError) as exc:
            failure = exc
        finally:
            for answer in answers[taken:]:
                answer.cancel()
            await asyncio.gather(*answers[taken:], return_exceptions=True)
        return taken, failure if taken < len(payloads) else None
