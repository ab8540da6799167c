"""What the MQTT link is told: the broker, our session with it, TLS.

Kept apart from the link (gateway.mqtt.link re-exports both): plain values that the
configuration builds and the link only reads.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field

__all__ = ["MqttSettings", "TlsSettings"]


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """TLS to the broker: its CA, and our client certificate when the broker asks for one."""

    ca_file: str
    cert_file: str | None = None
    key_file: str | None = None

    def context(self) -> ssl.SSLContext:
        """Verifies the broker's certificate and its name against the host we dial."""
        context = ssl.create_default_context(cafile=self.ca_file)
        if self.cert_file is not None:
            context.load_cert_chain(self.cert_file, self.key_file)
        return context


@dataclass(frozen=True, slots=True)
class MqttSettings:
    """The broker and our session with it. Times in seconds."""

    host: str
    port: int
    client_id: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    keepalive: int = 30
    session_expiry: int = 7 * 86400
    receive_maximum: int = 1000
    # Payloads larger than this are not kept (only their size), so a window of oversize
    # messages cannot fill memory; None keeps everything.
    max_payload: int | None = None
    protocol: str = "5"  # or "3.1.1": clean_session=False instead of an expiring session
    reconnect_min: float = 0.5
    reconnect_max: float = 30.0
    tls: TlsSettings | None = None
    # Set when intake is shared with other daemons (`$share/<group>/...`): the topic of
    # this session's will, which says "this session is left with nobody" to the others,
    # so that one of them takes over what it holds (gateway/mqtt/adopt.py). None: alone.
    gone_topic: str | None = None
    # Seconds the broker waits before publishing the will: a daemon back within them
    # (a restart) keeps its own session and nobody takes it over.
    will_delay: int = 10
