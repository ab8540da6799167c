"""Taking over the session of a daemon that is gone, so that what it held does not wait.

What mosquitto 2.0 does with a member of a shared subscription that dies (or stops)
while holding QoS 1 messages it has not acknowledged, as ours holds each until the store
has committed it (tests/mqtt/test_shared_subscription_broker.py):

- those messages stay in its session and go to nobody else;
- new messages go on being routed to that session, its turn in the round robin, as if
  it were alive;
- a session that expires drops what it holds: a short session expiry loses them;
- a client connecting under that client id with clean_start=False takes the session
  over and is sent what it holds; after it unsubscribes from the shared filters nothing
  new is routed to it, and a DISCONNECT with a session expiry of 0 ends the session.

So shared intake keeps the persistent session (nothing is lost while a daemon is away)
and each daemon's session leaves a will (gateway/mqtt/client.py): its client id,
published by the broker `will_delay` seconds after the connection dropped without a
DISCONNECT, or after a stop that asks for it (`MqttLink.__aexit__`), unless the daemon
came back first. Every other daemon hears it (the will topic is subscribed unshared)
and takes the session over with an `Adoption`: the messages come out as from the link,
are committed and acknowledged the same way, and once none is left the session ends.
Two daemons taking over the same session at once take it from each other; the one
left reads on, the other ends with SessionClosedError (as it does when the daemon itself
returns): nothing acknowledged is uncommitted, and a message delivered twice is a
repeat the store's idempotency absorbs. A takeover that ends otherwise (the broker gone,
an answer that did not come in time) leaves the session with nobody: it is tried again
(gateway/intake/serving.py), its will left unacknowledged meanwhile.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Sequence

import aiomqtt
from paho.mqtt.reasoncodes import ReasonCode

from gateway.mqtt.client import new_client
from gateway.mqtt.connection import Connection, Inbound
from gateway.mqtt.settings import MqttSettings

__all__ = ["QUIET", "Adoption", "SessionClosedError"]

# Seconds with nothing unacknowledged and nothing new after which a taken-over session
# counts as empty: the broker sends what it holds right behind CONNACK, and the next of
# it as soon as a slot of the Receive Maximum frees.
QUIET = 1.0
_POLL = 0.02


# paho's reason for a connection that ended because the keep-alive's PINGRESP did not
# come (our socket unread, or the broker unreachable): ours, not the broker closing it.
_KEEP_ALIVE_TIMEOUT = 0x8D


class SessionClosedError(aiomqtt.MqttError):
    """The broker closed the takeover's connection: another client took the session (the
    daemon came back, or another daemon took it over; mosquitto 2.0 closes the connection
    without a DISCONNECT saying so), or the broker itself went away, which the daemon's
    own link tells apart (gateway/intake/serving.py). Any other MqttError of a takeover
    (an answer or a PINGRESP that did not come in time) leaves the session with nobody,
    and the takeover is for trying again."""


def _closed_by_broker(exc: aiomqtt.MqttError) -> bool:
    """Whether `exc` (or what it wraps: aiomqtt's "Disconnected during ...") is the
    connection ended from the broker's side rather than by a timeout of ours."""
    for cause in (exc, exc.__cause__):
        code = getattr(cause, "rc", None)
        if isinstance(code, ReasonCode) and code.value != _KEEP_ALIVE_TIMEOUT:
            return True
    return False


class Adoption:
    """The session of `client_id` (another daemon's), read until it is empty, then ended.

    Used as the link is: `messages()`, then `ack()` each message once committed.
    """

    def __init__(
        self, settings: MqttSettings, client_id: str, filters: Sequence[str], *,
        quiet: float = QUIET,
    ) -> None:  # fmt: skip
        self.settings = dataclasses.replace(settings, client_id=client_id)
        self.filters = tuple(filters)
        self.quiet = quiet
        self.taken = 0  # messages handed out
        self.session_present: bool | None = None

    async def ack(self, message: Inbound) -> None:
        """Acknowledge on the connection the message came on (nothing if it is gone)."""
        if message.connection is not None:
            message.connection.ack(message)

    async def messages(self) -> AsyncIterator[Inbound]:
        """What the session holds, until none is left; then the session is ended.

        Raises SessionClosedError if the broker closes the connection (the session taken
        from us: the daemon is back, or another took it over; or the broker gone),
        aiomqtt.MqttError if the connection fails otherwise:
        whatever was not acknowledged stays in the session, for whoever holds it now.
        """
        messages = self._messages()
        try:
            async for inbound in messages:
                yield inbound
        except aiomqtt.MqttError as exc:
            if _closed_by_broker(exc) and not isinstance(exc, SessionClosedError):
                raise SessionClosedError(str(exc.__cause__ or exc)) from exc
            raise
        finally:
            await messages.aclose()

    async def _messages(self) -> AsyncIterator[Inbound]:
        settings = self.settings
        # No will of ours on another daemon's session; no reconnects: a connection lost
        # means someone else holds the session, or the broker is down (the will comes
        # again, since we acknowledge it only after this).
        connection = Connection(new_client(settings, will=False), 1, limit=settings.receive_maximum)
        queue: asyncio.Queue[Inbound] = asyncio.Queue()
        last = time.monotonic()

        def take(inbound: Inbound) -> None:
            nonlocal last
            last = time.monotonic()
            queue.put_nowait(inbound)

        connection.hook(deliver=take, max_payload=settings.max_payload)
        client = connection.client
        unsubscribed: asyncio.Future[object] | None = None
        try:
            async with client:
                connection.begin()
                self.session_present = connection.session_present
                if not connection.session_present:
                    # Nothing held (someone took it over and ended it); connecting made
                    # an empty session (clean_start=False): end that one.
                    connection.leave(end_session=True)
                    return
                # Its share of new messages goes to the living once the broker answers;
                # what is queued for it stays, and keeps coming, handed out meanwhile
                # (Connection.begin). Only the shared filters: the session keeps the
                # others' wills, so a daemon that takes it again (this one dead in the
                # middle of it) still hears of the sessions left with nobody.
                if self.filters:
                    unsubscribed = asyncio.ensure_future(
                        connection.answer(client.unsubscribe(list(self.filters)))
                    )
                while True:
                    if not queue.empty():
                        self.taken += 1
                        yield queue.get_nowait()
                        continue
                    connection.check()
                    if unsubscribed is not None and unsubscribed.done():
                        unsubscribed.result()  # an MqttError if it failed
                    if (
                        connection.outstanding == 0
                        and time.monotonic() - last >= self.quiet
                        and (unsubscribed is None or unsubscribed.done())
                    ):
                        # Only now: a session ended while holding anything loses it.
                        connection.leave(end_session=True)
                        return
                    await asyncio.sleep(_POLL)
        finally:
            if unsubscribed is not None and not unsubscribed.done():
                unsubscribed.cancel()
            connection.end()
