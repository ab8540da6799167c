"""The configuration file: one YAML document, read once at start-up, passed to constructors.

The file is the operator's contract, so reading it is strict: an unknown key is an error
(with "did you mean" when it is a typo of a known one), every error names the dotted key and
the file line, and the classic YAML 1.1 surprises are caught and explained, because a
province operator copying a brandname or a shortcode should not have to know them:

- unquoted `0357123456` is read as the octal number 62695214 and `8083` as a number: where
  text belongs (sender id, shortcodes, names, secrets) the error says "quote it";
- unquoted `yes`, `no`, `on`, `off` are booleans: same;
- unquoted `17:30` is the base-60 number 1050: times are read from the text as written,
  so `apology_at: 17:30` works quoted or not;
- unquoted `010` is the octal number 8: an integer written with a leading 0 is refused.

Secrets (`smpp.password`, `mqtt.password`) come, in order of precedence, from the
environment (`MOTCUA_SMS_SMPP_PASSWORD`, `MOTCUA_SMS_MQTT_PASSWORD`; an empty variable counts
as unset), from the file named by `password_file`, or from `password` in the YAML. A
relative `password_file` is looked up in `$CREDENTIALS_DIRECTORY` when that variable is set
(systemd `LoadCredential=`), else next to the configuration file. The file's content is the
secret, less its trailing newline.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib.util
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, NoReturn, get_args
from zoneinfo import ZoneInfo

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from gateway.domain.notice import TEMPLATE_FIELDS, NoticeKind, TemplateError, template_fields
from gateway.smpp.pdu import Status, StatusClass
from gateway.smpp.text import ALPHABETS, Alphabet

__all__ = [
    "AdminConfig",
    "AgencyConfig",
    "Config",
    "ConfigError",
    "MqttConfig",
    "RetryConfig",
    "ScheduleConfig",
    "SmppConfig",
    "StoreConfig",
    "default_config",
    "load_config",
    "parse_config",
    "redacted",
]

SMPP_PASSWORD_ENV = "MOTCUA_SMS_SMPP_PASSWORD"
MQTT_PASSWORD_ENV = "MOTCUA_SMS_MQTT_PASSWORD"
CREDENTIALS_DIRECTORY_ENV = "CREDENTIALS_DIRECTORY"

BindMode = Literal["transceiver", "transmitter_receiver"]
Diacritics = Literal["strip", "keep"]
MqttProtocol = Literal["5", "3.1.1"]

# Kinds an agency can switch on; the MCKH reply is not a notice (it answers an MO), but its
# wording can be overridden like theirs.
TEMPLATE_KINDS = frozenset(kind.value for kind in NoticeKind)
NOTICE_KINDS = TEMPLATE_KINDS - {NoticeKind.MCKH_REPLY.value}

DEFAULT_KEYWORDS: Mapping[str, str] = MappingProxyType(
    {"MCKH": "mckh", "HELP": "help", "HD": "help"}
)


class ConfigError(Exception):
    """A configuration that must not start the daemon.

    `str()` reads `FILE:LINE: KEY: MESSAGE`, e.g.
    `/etc/motcua-sms/gateway.yaml:12: smpp.window: must be a positive integer, got 'ten'`.

    Args:
        message: what is wrong and, where it helps, how to fix it.
        key: the dotted key (`agencies.SCT.diacritics`), empty for the file as a whole.
        line: 1-based line in the file, None when there is none to point at.
        path: the file, None when the text did not come from one.
    """

    def __init__(
        self, message: str, *, key: str = "", line: int | None = None, path: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.key = key
        self.line = line
        self.path = path

    def __str__(self) -> str:
        if self.path is not None:
            where = self.path if self.line is None else f"{self.path}:{self.line}"
        else:
            where = "" if self.line is None else f"line {self.line}"
        return ": ".join(part for part in (where, self.key, self.message) if part)


# --------------------------------------------------------------------------- dataclasses


@dataclass(frozen=True, slots=True)
class SmppConfig:
    """The bind to the carrier's SMSC. Times in seconds."""

    host: str = "127.0.0.1"
    port: int = 2775
    system_id: str = "motcua"
    password: str = ""
    system_type: str = ""
    bind: BindMode = "transceiver"
    source_addr: str = "MotcuaSMS"
    shortcodes: tuple[str, ...] = ("8083",)
    window: int = 10
    tps: float = 50.0
    enquire_link_interval: float = 30.0
    response_timeout: float = 30.0
    # Submitted with no final receipt this long: expired, "no delivery receipt".
    receipt_timeout: float = 172800.0
    # A submit unanswered this long retires its connection; when the file does not say,
    # 4 × response_timeout (which is 120 for the default 30).
    relink_after: float = 120.0
    # A bind counts as having stayed up (the reconnect back-off resets) after this long.
    bind_stable_after: float = 10.0
    # Send the message's TTL as a relative validity_period on every submit_sm.
    validity_period: bool = True
    connect_timeout: float = 10.0
    reconnect_min: float = 1.0
    reconnect_max: float = 60.0
    auth_backoff: float = 300.0
    throttle_pause: float = 1.0
    shutdown_timeout: float = 10.0
    mo_reassembly_timeout: float = 60.0
    ref16: bool = False
    # What the SMSC reads data_coding 0 as: GSM 03.38, or Latin-1 (gateway/smpp/text.py).
    default_alphabet: Alphabet = "gsm7"
    status_classes: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class TlsConfig:
    """TLS to the broker: the CA that signed its certificate, and ours if it asks for one."""

    ca_file: str
    cert_file: str | None = None
    key_file: str | None = None


@dataclass(frozen=True, slots=True)
class MqttConfig:
    """The broker the one-stop software publishes to. Times in seconds."""

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    topic_prefix: str = "motcua"
    client_id: str = "motcua-sms-1"
    keepalive: int = 30
    session_expiry: int = 7 * 86400
    # 3.1.1 for brokers without MQTT 5 (the demo's in-process broker): the session is
    # kept with clean_session=False, and the broker's own in-flight limit applies.
    protocol: MqttProtocol = "5"
    tls: TlsConfig | None = None


@dataclass(frozen=True, slots=True)
class StoreConfig:
    path: str = "/var/lib/motcua-sms/gateway.db"
    retention_days: int = 365


@dataclass(frozen=True, slots=True)
class ScheduleConfig:
    """When apologies go and when notices wait. Times are local to `Config.timezone`.

    `quiet_hours` is (start, end), wrapping midnight when start > end; None means none.
    `weekend` holds weekday numbers, Monday=0. Vietnam's public holidays are built in
    (gateway.calendar.workdays); `holidays` adds local days off and `working_days` local make-up
    working days (a Saturday worked), both winning over the national calendar.
    """

    apology_at: time = time(17, 30)
    quiet_hours: tuple[time, time] | None = (time(21, 0), time(7, 0))
    holidays: frozenset[date] = frozenset()
    working_days: frozenset[date] = frozenset()
    weekend: frozenset[int] = frozenset({5, 6})


@dataclass(frozen=True, slots=True)
class RetryConfig:
    """Retries of transient failures. Times in seconds."""

    max_attempts: int = 6
    base_delay: float = 30.0
    max_delay: float = 1800.0
    ttl: float = 48 * 3600.0


@dataclass(frozen=True, slots=True)
class AgencyConfig:
    """One agency (Sở, UBND, …) whose one-stop software publishes under its `code`.

    `templates` maps a notice kind (or `mckh_reply`) to the agency's own wording, and any
    other name to a template that SMS jobs can name.
    """

    code: str
    name: str
    skip_same_day: bool = True
    diacritics: Diacritics = "strip"
    notices: frozenset[str] = frozenset({"result", "supplement", "apology"})
    templates: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class AdminConfig:
    """The local health and metrics endpoint."""

    host: str = "127.0.0.1"
    port: int = 9108
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class MoConfig:
    """How the shortcode answers citizens, and how it refuses to be abused."""

    rate_limit: int = 10  # MOs answered per number per rate_window; beyond, logged only
    rate_window: float = 60.0
    duplicate_window: float = 120.0  # the same text from the same number: answered once
    max_lookups: int = 3  # receipt numbers answered from one MO


@dataclass(frozen=True, slots=True)
class Config:
    timezone: str = "Asia/Ho_Chi_Minh"
    smpp: SmppConfig = field(default_factory=SmppConfig)
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    retry: RetryConfig = field(default_factory=RetryConfig)
    agencies: Mapping[str, AgencyConfig] = field(default_factory=lambda: MappingProxyType({}))
    keywords: Mapping[str, str] = field(default_factory=lambda: DEFAULT_KEYWORDS)
    mo: MoConfig = field(default_factory=MoConfig)
    admin: AdminConfig = field(default_factory=AdminConfig)
    source_path: str | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


# --------------------------------------------------------------------------- reading nodes

_SEXAGESIMAL_OR_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_OCTAL_LOOKING = re.compile(r"[-+]?0[0-9_]+")
_AGENCY_CODE = re.compile(r"[A-Za-z0-9_.-]+")
_TEMPLATE_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_KEYWORD = re.compile(r"[A-Za-z0-9]+")
_BRANDNAME = re.compile(r"[A-Za-z0-9 ._-]{1,11}")
_DIGITS = re.compile(r"[0-9]+")
_QUIET_HOURS = re.compile(r"\s*(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*")
_DATE_RANGE = re.compile(r"\s*(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})\s*")
_STATUS_HEX = re.compile(r"0[xX][0-9A-Fa-f]{1,8}")
_WEEKDAYS = {
    name: number
    for number, names in enumerate(
        (
            ("mon", "monday"),
            ("tue", "tuesday"),
            ("wed", "wednesday"),
            ("thu", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        )
    )
    for name in names
}
_OFF_WORDS = frozenset({"off", "none", "no", "false"})
_MAX_HOLIDAY_RANGE = timedelta(days=31)

_MISSING = object()
_NULL_TAG = "tag:yaml.org,2002:null"
_MERGE_TAG = "tag:yaml.org,2002:merge"
# What a configuration may contain; anything else (!!python/..., !!binary, local tags)
# has no place in it.
_ALLOWED_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq", "merge")
)


def _describe(value: object) -> str:
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, datetime):
        return f"the timestamp {value.isoformat()}"
    if isinstance(value, date):
        return f"the date {value.isoformat()}"
    return f"a {type(value).__name__}"


def _describe_node(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return "a value"


def _line(node: Node | None) -> int | None:
    mark = None if node is None else node.start_mark
    return None if mark is None else mark.line + 1


def _kind(value: object) -> str:
    """What a value is, without the value: for secrets."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, date):
        return "a date"
    return f"a {type(value).__name__}"


class _Reader:
    """Walks the composed YAML tree, turning nodes into checked values or ConfigErrors."""

    def __init__(self, path: str | None, env: Mapping[str, str]) -> None:
        self.path = path
        self.env = env
        self._constructor = SafeConstructor()

    # -- errors

    def fail(self, node: Node | None, key: str, message: str) -> NoReturn:
        raise ConfigError(message, key=key, line=_line(node), path=self.path)

    def type_error(self, node: Node, key: str, expected: str, *, secret: bool = False) -> NoReturn:
        """Wrong type: explain YAML's reading of an unquoted value, never showing a secret."""
        if not isinstance(node, ScalarNode):
            self.fail(node, key, f"must be {expected}, got {_describe_node(node)}")
        value = self.scalar(node, key)
        if node.style is None and value is not None and not isinstance(value, str):
            if secret:
                self.fail(
                    node,
                    key,
                    f"must be {expected}, but YAML reads the unquoted value as "
                    f"{_kind(value)}; quote it",
                )
            self.fail(
                node,
                key,
                f"must be {expected}, but YAML reads unquoted {node.value} as "
                f'{_describe(value)}; quote it: "{node.value}"',
            )
        if secret:
            self.fail(node, key, f"must be {expected}, got {_kind(value)}")
        self.fail(node, key, f"must be {expected}, got {_describe(value)}")

    def _got(self, node: Node, key: str) -> str:
        """How to describe what `node` holds in a "must be …, got …" message."""
        if isinstance(node, ScalarNode):
            return _describe(self.scalar(node, key))
        return _describe_node(node)

    # -- structure

    def scalar(self, node: Node, key: str) -> Any:
        if not isinstance(node, ScalarNode):
            self.fail(node, key, f"must be a single value, got {_describe_node(node)}")
        try:
            return self._constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            self.fail(node, key, f"cannot read {node.value!r}: {problem}")

    def is_null(self, node: Node) -> bool:
        return isinstance(node, ScalarNode) and node.tag == _NULL_TAG

    def entries(
        self, node: Node, key: str, what: str = "a mapping"
    ) -> list[tuple[Any, Node, Node]]:
        """(key value, key node, value node) of a mapping, merge keys applied, no duplicates.

        An empty value (`mqtt:` with everything below commented out) is an empty mapping.
        """
        if self.is_null(node):
            return []
        if not isinstance(node, MappingNode):
            self.fail(
                node,
                key,
                f"must be {what} (indented `key: value` lines), got {self._got(node, key)}",
            )
        explicit = sum(1 for k, _ in node.value if k.tag != _MERGE_TAG)
        try:
            self._constructor.flatten_mapping(node)
        except yaml.YAMLError as exc:
            self.fail(node, key, f"bad merge key: {getattr(exc, 'problem', None) or exc}")
        # flatten_mapping puts the merged entries first, in order of increasing precedence,
        # then the mapping's own: a later entry overrides a merged one, but a key written
        # twice in the mapping itself is a mistake.
        merged_count = len(node.value) - explicit
        entries: dict[Any, tuple[int, Node, Node]] = {}
        for index, (key_node, value_node) in enumerate(node.value):
            if not isinstance(key_node, ScalarNode):
                self.fail(key_node, key, "a key must be a single value, not a list or mapping")
            name = f"{key}.{key_node.value}" if key else key_node.value
            child_key = self.scalar(key_node, name)
            try:
                first = entries.get(child_key)
            except TypeError:
                self.fail(key_node, name, f"unusable key {key_node.value!r}")
            if first is not None and first[0] >= merged_count:
                self.fail(key_node, name, f"given twice (first on line {_line(first[1])})")
            entries[child_key] = (index, key_node, value_node)
        return [(k, key_node, value_node) for k, (_, key_node, value_node) in entries.items()]

    def section(
        self,
        node: Node,
        key: str,
        allowed: Iterable[str],
        *,
        belongs: Mapping[str, str] | None = None,
    ) -> dict[str, Node]:
        """A mapping whose keys must all be in `allowed`: name → value node.

        `belongs` maps keys of other sections to their section, for a key put at the wrong
        indentation.
        """
        allowed = tuple(allowed)
        out: dict[str, Node] = {}
        for name, key_node, value_node in self.entries(node, key):
            dotted = f"{key}.{key_node.value}" if key else str(key_node.value)
            if not isinstance(name, str) or name not in allowed:
                text = str(key_node.value)
                if belongs and text in belongs:
                    hint = f"; it belongs under {belongs[text]}: (check the indentation)"
                else:
                    hint = self._known(text, allowed)
                self.fail(key_node, dotted, "unknown key" + hint)
            out[name] = value_node
        return out

    @staticmethod
    def _known(name: str, allowed: tuple[str, ...]) -> str:
        close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
        if close:
            return f"; did you mean {close[0]!r}?"
        return f"; known keys: {', '.join(sorted(allowed))}"

    # -- typed values

    def text(self, node: Node, key: str, *, secret: bool = False, empty: bool = False) -> str:
        value = self.scalar(node, key) if isinstance(node, ScalarNode) else _MISSING
        if not isinstance(value, str):
            self.type_error(node, key, "text", secret=secret)
        if not empty and not value.strip():
            self.fail(node, key, "must not be empty")
        if "\x00" in value:
            self.fail(node, key, "must not contain a NUL character")
        return value

    def optional_text(self, node: Node, key: str, *, secret: bool = False) -> str | None:
        if self.is_null(node):
            return None
        return self.text(node, key, secret=secret)

    def integer(
        self, node: Node, key: str, *, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        if minimum == 1 and maximum is None:
            expected = "a positive integer"
        elif minimum == 0 and maximum is None:
            expected = "an integer, 0 or more"
        elif minimum is not None and maximum is not None:
            expected = f"an integer from {minimum} to {maximum}"
        else:
            expected = "an integer"
        value = self.scalar(node, key) if isinstance(node, ScalarNode) else _MISSING
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                self.fail(node, key, f"must be {expected}, got {value}: write it without '.'")
            self.fail(node, key, f"must be {expected}, got {self._got(node, key)}")
        self._octal_trap(node, key, value)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.fail(node, key, f"must be {expected}, got {value}")
        return value

    def _octal_trap(self, node: Node, key: str, value: float) -> None:
        # YAML 1.1 reads an unquoted 010 as 8: nobody writing a port or a window means that.
        if node.style is None and _OCTAL_LOOKING.fullmatch(node.value):
            self.fail(
                node,
                key,
                f"YAML reads {node.value} with its leading 0 as the octal number {value}; "
                "write it without the leading 0",
            )

    def number(
        self, node: Node, key: str, *, minimum: float = 0.0, exclusive: bool = False
    ) -> float:
        if exclusive:
            expected = "a number greater than 0" if minimum == 0 else f"a number > {minimum:g}"
        else:
            expected = "a number, 0 or more" if minimum == 0 else f"a number ≥ {minimum:g}"
        value = self.scalar(node, key) if isinstance(node, ScalarNode) else _MISSING
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(node, key, f"must be {expected}, got {self._got(node, key)}")
        self._octal_trap(node, key, value)
        value = float(value)
        if not math.isfinite(value):
            self.fail(node, key, f"must be {expected}, got {node.value}")
        if value < minimum or (exclusive and value == minimum):
            self.fail(node, key, f"must be {expected}, got {value:g}")
        return value

    def boolean(self, node: Node, key: str) -> bool:
        value = self.scalar(node, key) if isinstance(node, ScalarNode) else _MISSING
        if not isinstance(value, bool):
            self.fail(node, key, f"must be true or false, got {self._got(node, key)}")
        return value

    def choice(self, node: Node, key: str, choices: Iterable[str]) -> str:
        choices = tuple(choices)
        value = self.scalar(node, key) if isinstance(node, ScalarNode) else _MISSING
        options = " or ".join(choices) if len(choices) <= 2 else f"one of {', '.join(choices)}"
        if not isinstance(value, str):
            self.type_error(node, key, options)
        if value not in choices:
            close = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            self.fail(node, key, f"must be {options}, got {value!r}{hint}")
        return value

    def time_of_day(self, node: Node, key: str) -> time:
        # An unquoted 17:30 is the base-60 integer 1050 in YAML 1.1, 07:30 is a string:
        # read the text as written either way.
        if isinstance(node, ScalarNode):
            match = _SEXAGESIMAL_OR_TIME.fullmatch(node.value.strip())
            if match is not None:
                return time(int(match[1]), int(match[2]))
            self.fail(node, key, f'must be a time of day as "HH:MM", got {node.value!r}')
        self.fail(node, key, f'must be a time of day as "HH:MM", got {_describe_node(node)}')

    def sequence(self, node: Node, key: str, what: str) -> list[Node]:
        if self.is_null(node):
            return []
        if not isinstance(node, SequenceNode):
            self.fail(node, key, f"must be a list of {what}, got {self._got(node, key)}")
        return list(node.value)


# --------------------------------------------------------------------------- sections


def _secret(
    r: _Reader,
    nodes: Mapping[str, Node],
    key: str,
    env_name: str,
    base_dir: Path,
) -> str | None:
    """The password: environment, else password_file, else the YAML value, else None."""
    from_env = r.env.get(env_name)
    if from_env:
        return from_env
    file_node = nodes.get("password_file")
    if file_node is not None and not r.is_null(file_node):
        name = r.text(file_node, f"{key}.password_file")
        path = Path(name).expanduser()
        if not path.is_absolute():
            credentials = r.env.get(CREDENTIALS_DIRECTORY_ENV)
            path = (Path(credentials) if credentials else base_dir) / path
        try:
            content = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            r.fail(file_node, f"{key}.password_file", f"cannot read {path}: {why}")
        content = content.rstrip("\r\n")
        if not content:
            r.fail(file_node, f"{key}.password_file", f"{path} is empty")
        return content
    password_node = nodes.get("password")
    if password_node is not None:
        return r.optional_text(password_node, f"{key}.password", secret=True)
    return None


def _status_code(r: _Reader, key_value: Any, key_node: Node, key: str) -> int:
    if isinstance(key_value, int) and not isinstance(key_value, bool):
        code = key_value
    elif isinstance(key_value, str) and _STATUS_HEX.fullmatch(key_value.strip()):
        code = int(key_value.strip(), 16)
    elif isinstance(key_value, str) and key_value.strip().isdigit():
        code = int(key_value.strip())
    elif isinstance(key_value, str) and key_value.strip().upper() in Status.__members__:
        code = int(Status[key_value.strip().upper()])
    else:
        r.fail(
            key_node,
            key,
            'must be a command_status such as "0x58", 88 or ESME_RTHROTTLED, '
            f"got {_describe(key_value)}",
        )
    if not 0 <= code <= 0xFFFFFFFF:
        r.fail(key_node, key, f"command_status must be from 0 to 0xFFFFFFFF, got {code}")
    return code


def _status_classes(r: _Reader, node: Node, key: str) -> Mapping[int, str]:
    classes = [c.value for c in StatusClass]
    out: dict[int, str] = {}
    for key_value, key_node, value_node in r.entries(node, key):
        dotted = f"{key}.{key_node.value}"
        code = _status_code(r, key_value, key_node, dotted)
        cls = r.choice(value_node, dotted, classes)
        if (code == 0) != (cls == StatusClass.OK):
            r.fail(value_node, dotted, "only status 0 (ESME_ROK) means ok, and it always does")
        out[code] = cls
    return MappingProxyType(out)


def _smpp(r: _Reader, node: Node, base_dir: Path) -> SmppConfig:
    key = "smpp"
    allowed = [f.name for f in dataclasses.fields(SmppConfig)] + ["password_file"]
    n = r.section(node, key, allowed)
    kw: dict[str, Any] = {}
    if "host" in n:
        kw["host"] = r.text(n["host"], f"{key}.host")
    if "port" in n:
        kw["port"] = r.integer(n["port"], f"{key}.port", minimum=1, maximum=65535)
    if "system_id" in n:
        kw["system_id"] = r.text(n["system_id"], f"{key}.system_id")
        if len(kw["system_id"]) > 15:
            r.fail(n["system_id"], f"{key}.system_id", "SMPP allows at most 15 characters")
    if "system_type" in n:
        kw["system_type"] = r.text(n["system_type"], f"{key}.system_type", empty=True)
        if len(kw["system_type"]) > 12:
            r.fail(n["system_type"], f"{key}.system_type", "SMPP allows at most 12 characters")
    password = _secret(r, n, key, SMPP_PASSWORD_ENV, base_dir)
    if password is not None:
        kw["password"] = password
    if "bind" in n:
        kw["bind"] = r.choice(n["bind"], f"{key}.bind", get_args(BindMode))
    if "source_addr" in n:
        sender = r.text(n["source_addr"], f"{key}.source_addr")
        brandname = _BRANDNAME.fullmatch(sender) and not sender.isdigit()
        if not (brandname or (_DIGITS.fullmatch(sender) and len(sender) <= 15)):
            r.fail(
                n["source_addr"],
                f"{key}.source_addr",
                "must be a brandname of at most 11 letters, digits, spaces, '.', '_' or '-', "
                f"or a number of at most 15 digits, got {sender!r}",
            )
        kw["source_addr"] = sender
    if "shortcodes" in n:
        codes: list[str] = []
        items = r.sequence(
            n["shortcodes"], f"{key}.shortcodes", 'quoted digit strings, e.g. ["8083"]'
        )
        for i, item in enumerate(items):
            item_key = f"{key}.shortcodes[{i}]"
            code = r.text(item, item_key)
            if not (_DIGITS.fullmatch(code) and len(code) <= 15):
                r.fail(item, item_key, f"must be digits only (at most 15), got {code!r}")
            if code not in codes:
                codes.append(code)
        if not codes:
            r.fail(n["shortcodes"], f"{key}.shortcodes", "needs at least one shortcode")
        kw["shortcodes"] = tuple(codes)
    if "window" in n:
        kw["window"] = r.integer(n["window"], f"{key}.window", minimum=1)
    if "tps" in n:
        kw["tps"] = r.number(n["tps"], f"{key}.tps")
    for name in (
        "enquire_link_interval",
        "response_timeout",
        "receipt_timeout",
        "relink_after",
        "bind_stable_after",
        "connect_timeout",
        "reconnect_min",
        "reconnect_max",
        "mo_reassembly_timeout",
    ):
        if name in n:
            kw[name] = r.number(n[name], f"{key}.{name}", exclusive=True)
    for name in ("auth_backoff", "throttle_pause", "shutdown_timeout"):
        if name in n:
            kw[name] = r.number(n[name], f"{key}.{name}")
    if "ref16" in n:
        kw["ref16"] = r.boolean(n["ref16"], f"{key}.ref16")
    if "default_alphabet" in n:
        kw["default_alphabet"] = r.choice(
            n["default_alphabet"], f"{key}.default_alphabet", ALPHABETS
        )
    if "validity_period" in n:
        kw["validity_period"] = r.boolean(n["validity_period"], f"{key}.validity_period")
    if "status_classes" in n:
        kw["status_classes"] = _status_classes(r, n["status_classes"], f"{key}.status_classes")
    config = SmppConfig(**kw)
    if "relink_after" not in n:
        config = dataclasses.replace(config, relink_after=4 * config.response_timeout)
    if config.relink_after <= config.response_timeout:
        r.fail(
            n["relink_after"],
            f"{key}.relink_after",
            f"must be more than response_timeout ({config.response_timeout:g}): a late "
            "answer is awaited from the timeout until then",
        )
    if config.reconnect_max < config.reconnect_min:
        where = n.get("reconnect_max") or n.get("reconnect_min")
        r.fail(
            where,
            f"{key}.reconnect_max",
            f"must not be less than reconnect_min ({config.reconnect_min:g})",
        )
    return config


def _mqtt(r: _Reader, node: Node, base_dir: Path) -> MqttConfig:
    key = "mqtt"
    allowed = [f.name for f in dataclasses.fields(MqttConfig)] + ["password_file"]
    n = r.section(node, key, allowed)
    kw: dict[str, Any] = {}
    if "host" in n:
        kw["host"] = r.text(n["host"], f"{key}.host")
    if "port" in n:
        kw["port"] = r.integer(n["port"], f"{key}.port", minimum=1, maximum=65535)
    if "username" in n:
        kw["username"] = r.optional_text(n["username"], f"{key}.username")
    kw["password"] = _secret(r, n, key, MQTT_PASSWORD_ENV, base_dir)
    if "topic_prefix" in n:
        prefix = r.text(n["topic_prefix"], f"{key}.topic_prefix")
        if any(c in prefix for c in "+#") or prefix.startswith("/") or prefix.endswith("/"):
            r.fail(
                n["topic_prefix"],
                f"{key}.topic_prefix",
                f"must be a topic without '+', '#' or a leading or trailing '/', got {prefix!r}",
            )
        kw["topic_prefix"] = prefix
    if "client_id" in n:
        kw["client_id"] = r.text(n["client_id"], f"{key}.client_id")
    if "keepalive" in n:
        kw["keepalive"] = r.integer(n["keepalive"], f"{key}.keepalive", minimum=0, maximum=65535)
    if "session_expiry" in n:
        kw["session_expiry"] = r.integer(
            n["session_expiry"], f"{key}.session_expiry", minimum=0, maximum=0xFFFFFFFF
        )
    if "protocol" in n:
        kw["protocol"] = r.choice(n["protocol"], f"{key}.protocol", get_args(MqttProtocol))
    if "tls" in n and not r.is_null(n["tls"]):
        kw["tls"] = _tls(r, n["tls"], f"{key}.tls", base_dir)
    return MqttConfig(**kw)


def _tls(r: _Reader, node: Node, key: str, base_dir: Path) -> TlsConfig:
    """`{ca_file, cert_file?, key_file?}`; each file must be readable now, not at the first
    connection attempt. Relative paths are relative to the configuration file."""
    n = r.section(node, key, [f.name for f in dataclasses.fields(TlsConfig)])
    if "ca_file" not in n:
        r.fail(node, f"{key}.ca_file", "missing: the CA certificate that signed the broker's")
    if "key_file" in n and "cert_file" not in n:
        r.fail(n["key_file"], f"{key}.cert_file", "missing: key_file needs its cert_file")
    files: dict[str, str] = {}
    for name in ("ca_file", "cert_file", "key_file"):
        if name not in n:
            continue
        path = Path(r.text(n[name], f"{key}.{name}")).expanduser()
        path = path if path.is_absolute() else base_dir / path
        try:
            path.read_bytes()
        except OSError as exc:
            r.fail(n[name], f"{key}.{name}", f"cannot read {path}: {exc.strerror or exc}")
        files[name] = str(path)
    return TlsConfig(**files)


def _store(r: _Reader, node: Node, base_dir: Path) -> StoreConfig:
    """A relative `path` is the config file's directory's, as `password_file` and the TLS
    files are: not the directory the daemon (or `report`) happens to start in."""
    key = "store"
    n = r.section(node, key, [f.name for f in dataclasses.fields(StoreConfig)])
    kw: dict[str, Any] = {}
    if "path" in n:
        text = r.text(n["path"], f"{key}.path")
        path = Path(text).expanduser()
        kw["path"] = text if text == ":memory:" or path.is_absolute() else str(base_dir / path)
    if "retention_days" in n:
        kw["retention_days"] = r.integer(n["retention_days"], f"{key}.retention_days", minimum=1)
    return StoreConfig(**kw)


def _quiet_hours(r: _Reader, node: Node, key: str) -> tuple[time, time] | None:
    if r.is_null(node):
        return None
    value = r.scalar(node, key)
    if value is False or (isinstance(value, str) and value.strip().lower() in _OFF_WORDS):
        return None
    expected = 'must be "HH:MM-HH:MM" (e.g. "21:00-07:00") or off'
    if not isinstance(value, str):
        r.fail(node, key, f"{expected}, got {_describe(value)}")
    match = _QUIET_HOURS.fullmatch(value)
    if match is None:
        r.fail(node, key, f"{expected}, got {value!r}")
    bounds = []
    for part in match.groups():
        hm = _SEXAGESIMAL_OR_TIME.fullmatch(part)
        if hm is None:
            r.fail(node, key, f"{part!r} is not a time of day (00:00 to 23:59)")
        bounds.append(time(int(hm[1]), int(hm[2])))
    start, end = bounds
    if start == end:
        r.fail(node, key, "start and end are the same: write off to have no quiet hours")
    return start, end


def _parse_date(r: _Reader, node: Node, key: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        r.fail(node, key, f'must be a date as "YYYY-MM-DD", got {text!r}')


def _dates(r: _Reader, node: Node, key: str) -> frozenset[date]:
    days: set[date] = set()
    for i, item in enumerate(r.sequence(node, key, 'dates "YYYY-MM-DD"')):
        item_key = f"{key}[{i}]"
        value = r.scalar(item, item_key)
        if isinstance(value, datetime):
            r.fail(item, item_key, f"must be a date without a time, got {item.value!r}")
        if isinstance(value, date):
            days.add(value)
            continue
        if not isinstance(value, str):
            r.fail(
                item,
                item_key,
                f'must be a date "YYYY-MM-DD" or a range "YYYY-MM-DD..YYYY-MM-DD", '
                f"got {_describe(value)}",
            )
        span = _DATE_RANGE.fullmatch(value)
        if span is None:
            days.add(_parse_date(r, item, item_key, value.strip()))
            continue
        first = _parse_date(r, item, item_key, span[1])
        last = _parse_date(r, item, item_key, span[2])
        if not first <= last <= first + _MAX_HOLIDAY_RANGE:
            r.fail(item, item_key, "a range must run forwards and span at most 31 days")
        while first <= last:
            days.add(first)
            first += timedelta(days=1)
    return frozenset(days)


def _weekend(r: _Reader, node: Node, key: str) -> frozenset[int]:
    days: set[int] = set()
    for i, item in enumerate(r.sequence(node, key, "weekdays (0=Monday … 6=Sunday, or sat, sun)")):
        item_key = f"{key}[{i}]"
        value = r.scalar(item, item_key)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
            days.add(value)
        elif isinstance(value, str) and value.strip().lower() in _WEEKDAYS:
            days.add(_WEEKDAYS[value.strip().lower()])
        else:
            r.fail(
                item,
                item_key,
                f"must be a weekday, 0 (Monday) to 6 (Sunday) or a name, got {_describe(value)}",
            )
    if len(days) == 7:
        r.fail(node, key, "covers every day of the week: no working day left")
    return frozenset(days)


def _schedule(r: _Reader, node: Node) -> ScheduleConfig:
    key = "schedule"
    n = r.section(node, key, [f.name for f in dataclasses.fields(ScheduleConfig)])
    kw: dict[str, Any] = {}
    if "apology_at" in n:
        kw["apology_at"] = r.time_of_day(n["apology_at"], f"{key}.apology_at")
    if "quiet_hours" in n:
        kw["quiet_hours"] = _quiet_hours(r, n["quiet_hours"], f"{key}.quiet_hours")
    for name in ("holidays", "working_days"):
        if name in n:
            kw[name] = _dates(r, n[name], f"{key}.{name}")
    if both := sorted(kw.get("holidays", frozenset()) & kw.get("working_days", frozenset())):
        r.fail(
            n["working_days"],
            f"{key}.working_days",
            f"{both[0].isoformat()} is also in {key}.holidays: a day is either off or worked",
        )
    if "weekend" in n:
        kw["weekend"] = _weekend(r, n["weekend"], f"{key}.weekend")
    return ScheduleConfig(**kw)


def _retry(r: _Reader, node: Node) -> RetryConfig:
    key = "retry"
    n = r.section(node, key, [f.name for f in dataclasses.fields(RetryConfig)] + ["ttl_hours"])
    kw: dict[str, Any] = {}
    if "max_attempts" in n:
        kw["max_attempts"] = r.integer(n["max_attempts"], f"{key}.max_attempts", minimum=1)
    if "base_delay" in n:
        kw["base_delay"] = r.number(n["base_delay"], f"{key}.base_delay", exclusive=True)
    if "max_delay" in n:
        kw["max_delay"] = r.number(n["max_delay"], f"{key}.max_delay", exclusive=True)
    if "ttl" in n and "ttl_hours" in n:
        r.fail(n["ttl_hours"], f"{key}.ttl_hours", "give ttl (seconds) or ttl_hours, not both")
    if "ttl" in n:
        kw["ttl"] = r.number(n["ttl"], f"{key}.ttl", exclusive=True)
    if "ttl_hours" in n:
        kw["ttl"] = r.number(n["ttl_hours"], f"{key}.ttl_hours", exclusive=True) * 3600.0
    config = RetryConfig(**kw)
    if config.max_delay < config.base_delay:
        where = n.get("max_delay") or n.get("base_delay")
        r.fail(
            where, f"{key}.max_delay", f"must not be less than base_delay ({config.base_delay:g})"
        )
    return config


def _templates(r: _Reader, node: Node, key: str) -> Mapping[str, str]:
    out: dict[str, str] = {}
    for name, key_node, value_node in r.entries(node, key):
        dotted = f"{key}.{key_node.value}"
        if not isinstance(name, str) or not _TEMPLATE_NAME.fullmatch(name):
            r.fail(
                key_node,
                dotted,
                "a template name must be letters, digits, '_', '.' or '-' "
                f"(a notice kind: {', '.join(sorted(TEMPLATE_KINDS))}; or your own name)",
            )
        text = r.text(value_node, dotted)
        try:
            fields = template_fields(text)
        except TemplateError as exc:
            r.fail(value_node, dotted, str(exc))
        if name in TEMPLATE_KINDS:
            unknown = sorted(fields - TEMPLATE_FIELDS)
            if unknown:
                placeholders = ", ".join(f"{{{f}}}" for f in unknown)
                allowed = ", ".join(f"{{{f}}}" for f in sorted(TEMPLATE_FIELDS))
                r.fail(
                    value_node,
                    dotted,
                    f"unknown placeholder {placeholders}; a {name} template may use {allowed}",
                )
        out[name] = text
    return MappingProxyType(out)


def _agency(r: _Reader, code: str, key_node: Node, node: Node) -> AgencyConfig:
    key = f"agencies.{code}"
    allowed = [f.name for f in dataclasses.fields(AgencyConfig) if f.name != "code"]
    if r.is_null(node):
        r.fail(key_node, f"{key}.name", "missing: every agency needs a name")
    n = r.section(node, key, allowed)
    if "name" not in n:
        r.fail(key_node, f"{key}.name", "missing: every agency needs a name")
    kw: dict[str, Any] = {"code": code, "name": r.text(n["name"], f"{key}.name")}
    if "skip_same_day" in n:
        kw["skip_same_day"] = r.boolean(n["skip_same_day"], f"{key}.skip_same_day")
    if "diacritics" in n:
        kw["diacritics"] = r.choice(n["diacritics"], f"{key}.diacritics", get_args(Diacritics))
    if "notices" in n:
        kinds: set[str] = set()
        choices = sorted(NOTICE_KINDS)
        for i, item in enumerate(r.sequence(n["notices"], f"{key}.notices", "notice kinds")):
            kinds.add(r.choice(item, f"{key}.notices[{i}]", choices))
        kw["notices"] = frozenset(kinds)
    if "templates" in n:
        kw["templates"] = _templates(r, n["templates"], f"{key}.templates")
    return AgencyConfig(**kw)


def _agencies(r: _Reader, node: Node, key_node: Node | None) -> Mapping[str, AgencyConfig]:
    key = "agencies"
    out: dict[str, AgencyConfig] = {}
    for code, code_node, value_node in r.entries(node, key, "a mapping of agency codes"):
        dotted = f"{key}.{code_node.value}"
        if not isinstance(code, str):
            r.type_error(code_node, dotted, "an agency code (text)")
        if not _AGENCY_CODE.fullmatch(code):
            r.fail(
                code_node,
                dotted,
                "an agency code is letters, digits, '_', '.' or '-' only "
                f"(it is part of MQTT topics), got {code!r}",
            )
        out[code] = _agency(r, code, code_node, value_node)
    if not out:
        r.fail(key_node or node, key, "at least one agency is needed")
    return MappingProxyType(out)


def _keywords(r: _Reader, node: Node) -> Mapping[str, str]:
    key = "keywords"
    out: dict[str, str] = {}
    lines: dict[str, int | None] = {}
    for word, word_node, handler_node in r.entries(node, key, "a mapping of keyword to handler"):
        dotted = f"{key}.{word_node.value}"
        if not isinstance(word, str):
            r.type_error(word_node, dotted, "a keyword (text)")
        if not _KEYWORD.fullmatch(word):
            r.fail(word_node, dotted, f"a keyword is letters and digits only, got {word!r}")
        handler = r.text(handler_node, dotted)
        if not (handler.isascii() and handler.isidentifier()):
            r.fail(
                handler_node,
                dotted,
                f"must name a handler module in handlers/ (a Python identifier), got {handler!r}",
            )
        if importlib.util.find_spec(f"handlers.{handler}") is None:
            r.fail(handler_node, dotted, f"no handler module handlers/{handler}.py")
        upper = word.upper()
        if upper in out:
            r.fail(
                word_node, dotted, f"same keyword as on line {lines[upper]} (keywords ignore case)"
            )
        out[upper] = handler
        lines[upper] = _line(word_node)
    return MappingProxyType(out)


def _mo(r: _Reader, node: Node) -> MoConfig:
    key = "mo"
    n = r.section(node, key, [f.name for f in dataclasses.fields(MoConfig)])
    kw: dict[str, Any] = {}
    for name in ("rate_limit", "max_lookups"):
        if name in n:
            kw[name] = r.integer(n[name], f"{key}.{name}", minimum=1)
    for name in ("rate_window", "duplicate_window"):
        if name in n:
            kw[name] = r.number(n[name], f"{key}.{name}", exclusive=True)
    return MoConfig(**kw)


def _admin(r: _Reader, node: Node) -> AdminConfig:
    key = "admin"
    n = r.section(node, key, [f.name for f in dataclasses.fields(AdminConfig)])
    kw: dict[str, Any] = {}
    if "host" in n:
        kw["host"] = r.text(n["host"], f"{key}.host")
    if "port" in n:
        kw["port"] = r.integer(n["port"], f"{key}.port", minimum=1, maximum=65535)
    if "enabled" in n:
        kw["enabled"] = r.boolean(n["enabled"], f"{key}.enabled")
    return AdminConfig(**kw)


def _check_tags(r: _Reader, node: Node, key: str) -> None:
    """Refuse tags that could construct anything but plain data, wherever they are."""
    seen: set[int] = set()
    stack = [(node, key)]
    while stack:
        current, where = stack.pop()
        if id(current) in seen:  # aliases share nodes
            continue
        seen.add(id(current))
        if current.tag not in _ALLOWED_TAGS:
            r.fail(current, where, f"the YAML tag {current.tag!r} is not allowed here")
        if isinstance(current, MappingNode):
            for key_node, value_node in current.value:
                child = f"{where}.{key_node.value}" if where else str(key_node.value)
                if not isinstance(key_node, ScalarNode):
                    child = where
                stack.append((value_node, child))
                stack.append((key_node, where))
        elif isinstance(current, SequenceNode):
            stack.extend((item, f"{where}[{i}]") for i, item in enumerate(current.value))


def _timezone(r: _Reader, node: Node) -> str:
    name = r.text(node, "timezone")
    try:
        ZoneInfo(name)
    except (ValueError, OSError, KeyError):
        hint = difflib.get_close_matches(name, ("Asia/Ho_Chi_Minh", "Asia/Saigon", "UTC"), n=1)
        suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
        r.fail(node, "timezone", f"unknown time zone {name!r}{suggestion}")
    return name


_EMPTY = ScalarNode(_NULL_TAG, "")


def _section_of_keys() -> Mapping[str, str]:
    """Keys found in exactly one section → that section, for misplaced-key hints."""
    sections: dict[str, list[str]] = {}
    for section, cls in (
        ("smpp", SmppConfig),
        ("mqtt", MqttConfig),
        ("store", StoreConfig),
        ("schedule", ScheduleConfig),
        ("retry", RetryConfig),
        ("mo", MoConfig),
        ("admin", AdminConfig),
    ):
        for f in dataclasses.fields(cls):
            sections.setdefault(f.name, []).append(section)
    sections.setdefault("ttl_hours", []).append("retry")
    return MappingProxyType({k: v[0] for k, v in sections.items() if len(v) == 1})


_SECTION_OF_KEY = _section_of_keys()

_TOP_LEVEL = (
    "timezone",
    "smpp",
    "mqtt",
    "store",
    "schedule",
    "retry",
    "agencies",
    "keywords",
    "mo",
    "admin",
)


# --------------------------------------------------------------------------- public API


def parse_config(
    text: str, *, path: str | None = None, env: Mapping[str, str] | None = None
) -> Config:
    """The configuration in `text` (the content of `path`, which only labels errors).

    `env` stands for the process environment (secrets, `CREDENTIALS_DIRECTORY`); None
    means `os.environ`.

    Raises:
        ConfigError: naming the key and line of the first problem found.
    """
    r = _Reader(path, os.environ if env is None else env)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        # Only problem and context: the snippet yaml would add may show a password line.
        # The context ("while parsing a flow sequence") says where the construct began,
        # which is often the line to fix (an unclosed bracket).
        message = f"YAML syntax error: {exc.problem or 'cannot parse'}"
        if exc.context and exc.context_mark is not None:
            message += f" ({exc.context} started on line {exc.context_mark.line + 1})"
        elif exc.context:
            message += f" ({exc.context})"
        mark = exc.problem_mark or exc.context_mark
        line = None if mark is None else mark.line + 1
        raise ConfigError(message, line=line, path=path) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"YAML error: {exc}", path=path) from None
    if root is None:
        raise ConfigError("the file is empty: it needs at least an agencies: section", path=path)
    if not isinstance(root, MappingNode):
        raise ConfigError(
            "must be a mapping of sections (timezone:, smpp:, agencies:, …), "
            f"got {_describe_node(root) if not isinstance(root, ScalarNode) else 'a single value'}",
            line=_line(root),
            path=path,
        )
    _check_tags(r, root, "")
    base_dir = Path(path).resolve().parent if path is not None else Path.cwd()
    n = r.section(root, "", _TOP_LEVEL, belongs=_SECTION_OF_KEY)
    key_lines = {str(k.value): k for k, _ in root.value if isinstance(k, ScalarNode)}
    kw: dict[str, Any] = {"source_path": path}
    if "timezone" in n:
        kw["timezone"] = _timezone(r, n["timezone"])
    # Absent sections are read as empty ones: secrets may still come from the environment.
    kw["smpp"] = _smpp(r, n.get("smpp", _EMPTY), base_dir)
    kw["mqtt"] = _mqtt(r, n.get("mqtt", _EMPTY), base_dir)
    if "store" in n:
        kw["store"] = _store(r, n["store"], base_dir)
    if "schedule" in n:
        kw["schedule"] = _schedule(r, n["schedule"])
    if "retry" in n:
        kw["retry"] = _retry(r, n["retry"])
    if "agencies" not in n:
        raise ConfigError(
            "missing: at least one agency is needed", key="agencies", line=None, path=path
        )
    kw["agencies"] = _agencies(r, n["agencies"], key_lines.get("agencies"))
    if "keywords" in n:
        kw["keywords"] = _keywords(r, n["keywords"])
    if "mo" in n:
        kw["mo"] = _mo(r, n["mo"])
    if "admin" in n:
        kw["admin"] = _admin(r, n["admin"])
    return Config(**kw)


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
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError("not UTF-8 text: save the file as UTF-8", line=line, path=name) from None
    return parse_config(text, path=name, env=env)


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


def _shallow(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def _hhmm(t: time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}"


def _secret_shown(value: str | None) -> str | None:
    return "***" if value else None


def redacted(config: Config) -> dict[str, Any]:
    """The effective configuration as plain data for `check-config`, passwords as `***`.

    Shaped like the YAML file (times as "HH:MM", dates as "YYYY-MM-DD", status codes as
    "0x…"), so the output can be read back; an unset password is None. `source_path` is
    left out: it is not a key of the file.
    """
    smpp = config.smpp
    schedule = config.schedule
    plain = _shallow
    quiet = schedule.quiet_hours
    return {
        "timezone": config.timezone,
        "smpp": {
            **plain(smpp),
            "password": _secret_shown(smpp.password),
            "shortcodes": list(smpp.shortcodes),
            "status_classes": {f"0x{code:08X}": cls for code, cls in smpp.status_classes.items()},
        },
        "mqtt": {
            **plain(config.mqtt),
            "password": _secret_shown(config.mqtt.password),
            "tls": None if config.mqtt.tls is None else plain(config.mqtt.tls),
        },
        "store": plain(config.store),
        "schedule": {
            "apology_at": _hhmm(schedule.apology_at),
            "quiet_hours": None if quiet is None else f"{_hhmm(quiet[0])}-{_hhmm(quiet[1])}",
            "holidays": [d.isoformat() for d in sorted(schedule.holidays)],
            "working_days": [d.isoformat() for d in sorted(schedule.working_days)],
            "weekend": sorted(schedule.weekend),
        },
        "retry": plain(config.retry),
        "agencies": {
            code: {
                "name": agency.name,
                "skip_same_day": agency.skip_same_day,
                "diacritics": agency.diacritics,
                "notices": sorted(agency.notices),
                "templates": dict(agency.templates),
            }
            for code, agency in config.agencies.items()
        },
        "keywords": dict(config.keywords),
        "mo": plain(config.mo),
        "admin": plain(config.admin),
    }
