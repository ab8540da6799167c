"""The `mqtt:` section: the broker the one-stop software publishes to. Times in seconds.

The link owns its settings (`gateway.mqtt.link.MqttSettings`, `TlsSettings`); this section
holds the keys of the file, checks them, and makes the link's settings in one place
(`link_settings`), adding what is not the operator's to choose (the payload limit intake
sets, the link's own back-off).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, get_args

from pydantic import ConfigDict, ValidationInfo, model_validator

from gateway.mqtt.link import MqttSettings, TlsSettings
from gateway.settings.secrets import (
    MQTT_PASSWORD_ENV,
    beside,
    password_text,
    source_of,
    with_password,
)
from gateway.settings.values import (
    below,
    entries,
    integer,
    one_of,
    optional,
    refuse,
    rule,
    text,
    unknown_key,
)

MqttProtocol = Literal["5", "3.1.1"]
_TLS_KEYS = ("ca_file", "cert_file", "key_file")


# The client id of a daemon alone on its broker session, as before shared intake: an
# upgraded installation keeps its session, and what the broker queued for it meanwhile.
ALONE_CLIENT_ID = "motcua-sms-1"


def shared_client_id(daemon_name: str) -> str:
    """The client id with shared intake when none is given: `motcua-sms-<daemon.name>`, so
    no two daemons of one store share one (the broker would hand the session from one to
    the other at every reconnect)."""
    return f"motcua-sms-{daemon_name}"


def _share_name(value: Any) -> str:
    """MQTT 5's ShareName: at least one character, none of '/', '+', '#'."""
    name: str = text()(value)
    if any(c in name for c in "/+#"):
        refuse(f"must be a name without '/', '+' or '#' (MQTT's ShareName), got {name!r}")
    return name


def _topic_prefix(value: Any) -> str:
    prefix: str = text()(value)
    if any(c in prefix for c in "+#") or prefix.startswith("/") or prefix.endswith("/"):
        refuse(f"must be a topic without '+', '#' or a leading or trailing '/', got {prefix!r}")
    return prefix


@dataclass(frozen=True, slots=True)
class MqttConfig:
    """The broker, our identity on it, and the topics' common prefix."""

    __pydantic_config__ = ConfigDict(extra="forbid")
    ALSO_IN_FILE: ClassVar[tuple[str, ...]] = ("password_file",)

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    topic_prefix: str = "motcua"
    # With shared intake and none given: `shared_client_id` (Config fills it in).
    client_id: str = ALONE_CLIENT_ID
    keepalive: int = 30
    session_expiry: int = 7 * 86400
    # Intake shared with the other daemons of one store: `$share/<group>/<filter>`, so
    # each job reaches one of them. None: this daemon alone takes every job.
    shared_group: str | None = None
    # Shared intake: seconds a daemon that is gone (its connection dropped, or stopped)
    # has to come back before another takes over its session (gateway/mqtt/adopt.py).
    handover_delay: int = 10
    # 3.1.1 for brokers without MQTT 5 (the demo's in-process broker): the session is
    # kept with clean_session=False, and the broker's own in-flight limit applies.
    protocol: MqttProtocol = "5"
    tls: TlsSettings | None = None

    _host = rule("host", "client_id", check=text())
    _port = rule("port", check=integer(1, 65535))
    _username = rule("username", check=optional(text()))
    _password = rule("password", check=optional(password_text))
    _prefix = rule("topic_prefix", check=_topic_prefix)
    _keepalive = rule("keepalive", check=integer(0, 65535))
    _expiry = rule("session_expiry", check=integer(0, 0xFFFFFFFF))
    _protocol = rule("protocol", check=one_of(get_args(MqttProtocol)))
    _group = rule("shared_group", check=optional(_share_name))
    # Not 0: taking a session over closes any connection still on it, and a will
    # without a delay would then be sent at once, for a daemon that is alive.
    _handover = rule("handover_delay", check=integer(1, 86400))

    @model_validator(mode="after")
    def _shared_needs_v5(self) -> MqttConfig:
        if self.shared_group is not None and self.protocol != "5":
            # The handover of a gone daemon's session rests on MQTT 5: a will sent after
            # a delay, a session ended by its DISCONNECT.
            refuse('shared intake needs protocol "5"', "shared_group", near=("protocol",))
        return self

    @property
    def gone_topic(self) -> str | None:
        """Where each daemon's will says its session is left with nobody (shared intake):
        four levels, so no intake filter (`{prefix}/+/dossier|sms`) matches it."""
        if self.shared_group is None:
            return None
        return f"{self.topic_prefix}/_gateway/{self.shared_group}/gone"

    @model_validator(mode="before")
    @classmethod
    def _files(cls, data: Any, info: ValidationInfo) -> Any:
        section = with_password(data, info, MQTT_PASSWORD_ENV)
        if section.get("tls") is not None:
            section["tls"] = _tls(section["tls"], info)
        return section

    def link_settings(self, *, max_payload: int | None = None) -> MqttSettings:
        """What the link is started with: this section, and intake's payload limit."""
        return MqttSettings(
            host=self.host,
            port=self.port,
            client_id=self.client_id,
            username=self.username,
            password=self.password,
            keepalive=self.keepalive,
            session_expiry=self.session_expiry,
            protocol=self.protocol,
            max_payload=max_payload,
            tls=self.tls,
            gone_topic=self.gone_topic,
            will_delay=self.handover_delay,
        )


def _tls(value: Any, info: ValidationInfo) -> TlsSettings:
    """`{ca_file, cert_file?, key_file?}`; each file must be readable now, not at the first
    connection attempt. Relative paths are relative to the configuration file."""
    section = below(entries, value, "tls")
    for name in section:
        if name not in _TLS_KEYS:
            unknown_key("tls", name)
    if "ca_file" not in section:
        refuse("missing: the CA certificate that signed the broker's", "tls", "ca_file")
    if "key_file" in section and "cert_file" not in section:
        refuse("missing: key_file needs its cert_file", "tls", "cert_file", near=("key_file",))
    files: dict[str, str] = {}
    for name in _TLS_KEYS:
        if name not in section:
            continue
        path = beside(source_of(info), below(text(), section[name], "tls", name))
        try:
            path.read_bytes()
        except OSError as exc:
            refuse(f"cannot read {path}: {exc.strerror or exc}", "tls", name)
        files[name] = str(path)
    return TlsSettings(**files)
