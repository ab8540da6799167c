"""The configuration file: one YAML document, read once at start-up, one section per part.

The file is the operator's contract, so reading it is strict: an unknown key is an error
(with "did you mean" when it is a typo of a known one), every error names the dotted key and
the file line (`gateway.settings.loader`), and the classic YAML 1.1 surprises are caught and
explained, because a province operator copying a brandname or a shortcode should not have to
know them:

- unquoted `0357123456` is read as the octal number 62695214 and `8083` as a number: where
  text belongs (sender id, shortcodes, names, secrets) the error says "quote it";
- unquoted `yes`, `no`, `on`, `off` are booleans: same;
- unquoted `17:30` is the base-60 number 1050: times are read from the text as written,
  so `apology_at: 17:30` works quoted or not;
- unquoted `010` is the octal number 8: an integer written with a leading 0 is refused.

Each section is a typed model in its own module (smpp, mqtt, store, schedule, retry,
agencies, keywords); `Config` composes them. The parts that own settings types (the SMPP
session, the MQTT link) define them; the sections here build on them, never the reverse.
Secrets: `gateway.settings.secrets`.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from pydantic import ConfigDict, TypeAdapter, ValidationInfo, field_validator, model_validator

from gateway.settings.agencies import AgencyConfig, agencies, agencies_mailing, agencies_on_zalo
from gateway.settings.console import ConsoleConfig, agency_users
from gateway.settings.daemon import DaemonConfig, host_name
from gateway.settings.explain import file_keys, validate
from gateway.settings.keywords import DEFAULT_KEYWORDS, MoConfig, keywords
from gateway.settings.links import LinkConfig, check_links, links_checked, single_link
from gateway.settings.loader import ConfigError, Source, compose
from gateway.settings.mail import MailConfig
from gateway.settings.mqtt import MqttConfig, shared_client_id
from gateway.settings.retry import RetryConfig
from gateway.settings.schedule import ScheduleConfig
from gateway.settings.secrets import MQTT_PASSWORD_ENV, SMPP_PASSWORD_ENV
from gateway.settings.smpp import SmppConfig
from gateway.settings.store import AdminConfig, ReportConfig, StoreConfig
from gateway.settings.values import refuse, rule, text, unknown_key
from gateway.settings.zalo import ZaloConfig

__all__ = [
    "MQTT_PASSWORD_ENV",
    "SMPP_PASSWORD_ENV",
    "AdminConfig",
    "AgencyConfig",
    "Config",
    "ConfigError",
    "MailConfig",
    "MoConfig",
    "MqttConfig",
    "ReportConfig",
    "RetryConfig",
    "ScheduleConfig",
    "SmppConfig",
    "StoreConfig",
    "ZaloConfig",
    "default_config",
    "load_config",
    "parse_config",
]

# The sections whose keys a key written at the top level may belong to.
_SECTIONS: Mapping[str, type] = MappingProxyType(
    {
        "smpp": SmppConfig,
        "mqtt": MqttConfig,
        "store": StoreConfig,
        "report": ReportConfig,
        "schedule": ScheduleConfig,
        "retry": RetryConfig,
        "mo": MoConfig,
        "admin": AdminConfig,
        "console": ConsoleConfig,
        "daemon": DaemonConfig,
    }
)


def _belongs() -> Mapping[str, str]:
    """Keys found in exactly one section → that section, for misplaced-key hints."""
    found: dict[str, list[str]] = {}
    for section, cls in _SECTIONS.items():
        for key in file_keys(cls):
            found.setdefault(key, []).append(section)
    return MappingProxyType({k: v[0] for k, v in found.items() if len(v) == 1})


def _timezone(value: Any) -> str:
    name: str = text()(value)
    try:
        ZoneInfo(name)
    except (ValueError, OSError, KeyError):
        hint = difflib.get_close_matches(name, ("Asia/Ho_Chi_Minh", "Asia/Saigon", "UTC"), n=1)
        suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
        refuse(f"unknown time zone {name!r}{suggestion}")
    return name


@dataclass(frozen=True, slots=True)
class Config:
    """The whole file. Each part is given its own section, not this."""

    __pydantic_config__ = ConfigDict(extra="forbid")
    NOT_IN_FILE: ClassVar[tuple[str, ...]] = ("source_path",)
    BELONGS: ClassVar[Mapping[str, str]] = _belongs()

    timezone: str = "Asia/Ho_Chi_Minh"
    smpp: SmppConfig = field(default_factory=SmppConfig)
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    retry: RetryConfig = field(default_factory=RetryConfig)
    agencies: Mapping[str, AgencyConfig] = field(default_factory=lambda: MappingProxyType({}))
    keywords: Mapping[str, str] = field(default_factory=lambda: DEFAULT_KEYWORDS)
    mo: MoConfig = field(default_factory=MoConfig)
    admin: AdminConfig = field(default_factory=AdminConfig)
    # Several SMSC links (gateway/settings/links.py); empty: `smpp:` is the one link.
    smsc: tuple[LinkConfig, ...] = ()
    console: ConsoleConfig = field(default_factory=ConsoleConfig)
    # This daemon among the daemons of its store (gateway/settings/daemon.py).
    daemon: DaemonConfig = field(default_factory=DaemonConfig)
    # E-mail notices (gateway/settings/mail.py); absent: e-mail is off.
    email: MailConfig | None = None
    # The agency's Zalo OA (gateway/settings/zalo.py); absent: Zalo is off.
    zalo: ZaloConfig | None = None
    source_path: str | None = None

    _timezone = rule("timezone", check=_timezone)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def links(self) -> tuple[LinkConfig, ...]:
        """The SMSC links in routing order: `smsc:`, or `smpp:` as the link `default`."""
        return self.smsc or (single_link(self.smpp),)

    @field_validator("smsc", mode="before")
    @classmethod
    def _smsc(cls, value: Any) -> Any:
        return links_checked(value)

    @model_validator(mode="after")
    def _links(self) -> Config:
        if self.smsc:
            check_links(self.smsc, sorted(self.agencies))
            # The keys other parts read from `smpp:` (brandname, receipt timeout,
            # encoding) are the first link's.
            object.__setattr__(self, "smpp", self.smsc[0])
        return self

    @model_validator(mode="before")
    @classmethod
    def _sections(cls, data: Any) -> Any:
        sections = dict(data)
        if "source_path" in sections:
            unknown_key("source_path")
        if "agencies" not in sections:
            refuse("missing: at least one agency is needed", "agencies")
        for name in _SECTIONS:
            if name in sections and sections[name] is None:
                sections[name] = {}  # everything below it commented out
        # Absent sections are read as empty ones: secrets may still come from the environment.
        if "smsc" in sections and "smpp" in sections:
            refuse(
                "give either `smpp:` (one SMSC) or `smsc:` (a list of links), not both; "
                "an `smpp:` section is the link `default` of `smsc:`",
                "smsc",
            )
        if "smsc" not in sections:
            sections.setdefault("smpp", {})
        sections.setdefault("mqtt", {})
        _client_id_of_shared_intake(sections)
        return sections

    @model_validator(mode="after")
    def _console_agencies(self) -> Config:
        agency_users(self.console, self.agencies)
        return self

    @model_validator(mode="after")
    def _email_agencies(self) -> Config:
        object.__setattr__(self, "agencies", agencies_mailing(self.email, self.agencies))
        return self

    @model_validator(mode="after")
    def _zalo_agencies(self) -> Config:
        agencies_on_zalo(self.zalo, self.agencies)
        if self.zalo is not None and self.zalo.fallback_after >= self.retry.ttl:
            # The SMS a notice falls back to keeps the notice's TTL: it would be expired
            # before it could go, and the citizen told nothing.
            refuse(
                f"must be less than the messages' TTL ({self.retry.ttl:g} s, retry.ttl): "
                "a notice Zalo does not confirm falls back to an SMS past its TTL, never sent",
                "zalo",
                "fallback_after",
            )
        return self

    @model_validator(mode="after")
    def _shared_intake_store(self) -> Config:
        if self.mqtt.shared_group is not None and self.store.url is None:
            # Each daemon would take its share of the jobs into a store the others cannot
            # see: an MCKH lookup on one host for a dossier the other took is "not found".
            refuse(
                "shared intake is for several daemons on one PostgreSQL store: give "
                "store.url (postgresql://user@host:port/dbname); on an SQLite file "
                "(store.path) each daemon would keep its share of the jobs where the "
                "others cannot see it",
                "mqtt",
                "shared_group",
            )
        return self

    @field_validator("agencies", mode="before")
    @classmethod
    def _agencies(cls, value: Any) -> Any:
        return agencies(value)

    @field_validator("agencies", mode="after")
    @classmethod
    def _frozen_agencies(cls, value: Mapping[str, AgencyConfig]) -> Mapping[str, AgencyConfig]:
        return MappingProxyType(dict(value))

    @field_validator("keywords", mode="plain")
    @classmethod
    def _keywords(cls, value: Any, info: ValidationInfo) -> Mapping[str, str]:
        return keywords(value, info)


_ADAPTER = TypeAdapter(Config)


def parse_config(
    text: str, *, path: str | None = None, env: Mapping[str, str] | None = None
) -> Config:
    """The configuration in `text` (the content of `path`, which only labels errors).

    `env` stands for the process environment (secrets, `CREDENTIALS_DIRECTORY`); None
    means `os.environ`.

    Raises:
        ConfigError: naming the key and line of the problem on the lowest line.
    """
    data, marks = compose(text, path)
    base_dir = Path(path).resolve().parent if path is not None else Path.cwd()
    source = Source(env=os.environ if env is None else env, base_dir=base_dir, marks=marks)
    config = validate(_ADAPTER, Config, data, source=source, path=path)
    return dataclasses.replace(config, source_path=path)


def load_config(path: str | os.PathLike[str], *, env: Mapping[str, str] | None = None) -> Config:
    """Read and check the configuration file at `path` (UTF-8).

    Raises:
        ConfigError: the file cannot be read, is not YAML, or breaks a rule; the message
            names the file, line and key.
    """
    name = os.fspath(path)
    try:
        raw = Path(name).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the file: {exc.strerror or exc}", path=name) from None
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError("not UTF-8 text: save the file as UTF-8", line=line, path=name) from None
    return parse_config(content, path=name, env=env)


def default_config() -> Config:
    """The embedded defaults, with two agencies, for `motcua-sms demo`.

    SCT keeps the SPEC defaults; STP keeps diacritics and sends receipts too, so the demo
    shows both encodings and an HCMC-style agency.
    """
    return Config(
        agencies=MappingProxyType(
            {
                "SCT": AgencyConfig(code="SCT", name="Sở Công Thương"),
                "STP": AgencyConfig(
                    code="STP",
                    name="Sở Tư pháp",
                    diacritics="keep",
                    notices=frozenset({"result", "supplement", "apology", "receipt"}),
                ),
            }
        )
    )


def _client_id_of_shared_intake(sections: dict[str, Any]) -> None:
    """With shared intake and no `mqtt.client_id`, the id is the daemon's name's: each
    daemon of the store its own session. Alone, a daemon keeps the id it always had."""
    mqtt, daemon = sections["mqtt"], sections.get("daemon")
    if not isinstance(mqtt, Mapping) or "client_id" in mqtt or mqtt.get("shared_group") is None:
        return
    name = daemon.get("name") if isinstance(daemon, Mapping) else None
    named = name if isinstance(name, str) else host_name()
    sections["mqtt"] = {**mqtt, "client_id": shared_client_id(named)}
