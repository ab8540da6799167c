"""The aiomqtt client of one connection, made in one place for the link and for taking
over another daemon's session (gateway/mqtt/adopt.py): the persistent session, TLS, and
the will that shared intake leaves behind."""

from __future__ import annotations

from typing import Any

import aiomqtt
from aiomqtt import ProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from gateway.mqtt.publish import PUBLISH_CONCURRENCY
from gateway.mqtt.settings import MqttSettings

__all__ = ["new_client"]


def new_client(settings: MqttSettings, *, will: bool = True) -> aiomqtt.Client:
    """A client for `settings.client_id`'s persistent session (clean_start=False and the
    session expiry; clean_session=False on 3.1.1).

    With `settings.gone_topic` (shared intake) and `will`, the client's will is this
    client id published there, QoS 1, after `settings.will_delay` seconds: the broker
    sends it when the connection drops without a DISCONNECT, or with one that asks for it
    (`Connection.leave(will=True)`), unless the session is resumed first.
    """
    session: dict[str, Any]
    if settings.protocol == "3.1.1":
        session = {"protocol": ProtocolVersion.V311, "clean_session": False}
    else:
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = settings.session_expiry
        properties.ReceiveMaximum = settings.receive_maximum
        session = {"protocol": ProtocolVersion.V5, "clean_start": False, "properties": properties}
    if will and settings.gone_topic is not None:
        delay = Properties(PacketTypes.WILLMESSAGE)
        delay.WillDelayInterval = settings.will_delay
        session["will"] = aiomqtt.Will(
            settings.gone_topic, settings.client_id.encode(), qos=1, retain=False,
            properties=delay,
        )  # fmt: skip
    client = aiomqtt.Client(
        settings.host,
        port=settings.port,
        username=settings.username,
        password=settings.password,
        identifier=settings.client_id,
        keepalive=settings.keepalive,
        tls_context=settings.tls.context() if settings.tls is not None else None,
        **session,
    )
    # aiomqtt warns on every publish while more than this many await their PUBACK;
    # the status publisher keeps up to PUBLISH_CONCURRENCY in flight on purpose.
    client.pending_calls_threshold = PUBLISH_CONCURRENCY
    return client
