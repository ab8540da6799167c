"""The `smpp:` section: the bind to the carrier's SMSC. Times in seconds.

The session owns its settings (`gateway.smpp.model.SessionConfig`: the bind mode, the
window, the timeouts, the status classes, the relink default); this section *is* that
class, with the file's defaults, the keys the other parts read (the sender id and
shortcodes, the receipt timeout, concatenation references, the SMSC's default alphabet)
and the checks. The session takes it as it is: nothing is copied from one to the other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, get_args

from pydantic import ConfigDict, ValidationInfo, model_validator

from gateway.settings.secrets import SMPP_PASSWORD_ENV, password_text, with_password
from gateway.settings.values import (
    below,
    boolean,
    describe,
    entries,
    integer,
    items,
    number,
    one_of,
    refuse,
    rule,
    text,
)
from gateway.smpp.model import BindMode, SessionConfig
from gateway.smpp.pdu import Status, StatusClass
from gateway.smpp.text import ALPHABETS, Alphabet

_BRANDNAME = re.compile(r"[A-Za-z0-9 ._-]{1,11}")
_DIGITS = re.compile(r"[0-9]+")
_STATUS_HEX = re.compile(r"0[xX][0-9A-Fa-f]{1,8}")
_CLASSES = tuple(c.value for c in StatusClass)


def _at_most(length: int, check: Any) -> Any:
    def limited(value: Any) -> str:
        checked: str = check(value)
        if len(checked) > length:
            refuse(f"SMPP allows at most {length} characters")
        return checked

    return limited


def _source_addr(value: Any) -> str:
    sender: str = text()(value)
    brandname = _BRANDNAME.fullmatch(sender) and not sender.isdigit()
    if not (brandname or (_DIGITS.fullmatch(sender) and len(sender) <= 15)):
        refuse(
            "must be a brandname of at most 11 letters, digits, spaces, '.', '_' or '-', "
            f"or a number of at most 15 digits, got {sender!r}"
        )
    return sender


def _shortcode(value: Any) -> str:
    code: str = text()(value)
    if not (_DIGITS.fullmatch(code) and len(code) <= 15):
        refuse(f"must be digits only (at most 15), got {code!r}")
    return code


def _shortcodes(value: Any) -> tuple[str, ...]:
    codes: list[str] = []
    for i, item in enumerate(items(value, 'quoted digit strings, e.g. ["8083"]')):
        code = below(_shortcode, item, i)
        if code not in codes:
            codes.append(code)
    if not codes:
        refuse("needs at least one shortcode")
    return tuple(codes)


def _status_code(key: Any) -> int:
    written = key.strip() if isinstance(key, str) else key
    if isinstance(written, int) and not isinstance(written, bool):
        code = int(written)
    elif isinstance(written, str) and _STATUS_HEX.fullmatch(written):
        code = int(written, 16)
    elif isinstance(written, str) and written.isdigit():
        code = int(written)
    elif isinstance(written, str) and written.upper() in Status.__members__:
        code = int(Status[written.upper()])
    else:
        refuse(
            f'must be a command_status such as "0x58", 88 or ESME_RTHROTTLED, got {describe(key)}'
        )
    if not 0 <= code <= 0xFFFFFFFF:
        refuse(f"command_status must be from 0 to 0xFFFFFFFF, got {code}")
    return code


def _status_classes(value: Any) -> Mapping[int, str]:
    out: dict[int, str] = {}
    for key, cls in entries(value).items():
        code = below(_status_code, key, key)
        chosen = below(one_of(_CLASSES), cls, key)
        if (code == 0) != (chosen == StatusClass.OK):
            refuse("only status 0 (ESME_ROK) means ok, and it always does", key)
        out[code] = chosen
    return MappingProxyType(out)


@dataclass(frozen=True, slots=True)
class SmppConfig(SessionConfig):
    """The session's settings as the file gives them, and the SMPP keys of other parts."""

    __pydantic_config__ = ConfigDict(extra="forbid")
    ALSO_IN_FILE: ClassVar[tuple[str, ...]] = ("password_file",)

    host: str = "127.0.0.1"
    port: int = 2775
    system_id: str = "motcua"
    password: str = field(default="", repr=False)
    tps: float = 50.0
    status_classes: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))
    source_addr: str = "MotcuaSMS"
    shortcodes: tuple[str, ...] = ("8083",)
    # Submitted with no final receipt this long: expired, "no delivery receipt".
    receipt_timeout: float = 172800.0
    ref16: bool = False
    # What the SMSC reads data_coding 0 as: GSM 03.38, or Latin-1 (gateway/smpp/text.py).
    default_alphabet: Alphabet = "gsm7"

    _host = rule("host", check=text())
    _port = rule("port", check=integer(1, 65535))
    _system_id = rule("system_id", check=_at_most(15, text()))
    _system_type = rule("system_type", check=_at_most(12, text(empty=True)))
    _password = rule("password", check=password_text)
    _bind = rule("bind", check=one_of(get_args(BindMode)))
    _source_addr = rule("source_addr", check=_source_addr)
    _shortcodes = rule("shortcodes", check=_shortcodes)
    _window = rule("window", check=integer(minimum=1))
    _tps = rule("tps", check=number())
    _positive = rule(
        "enquire_link_interval",
        "response_timeout",
        "receipt_timeout",
        "relink_after",
        "bind_stable_after",
        "connect_timeout",
        "reconnect_min",
        "reconnect_max",
        "mo_reassembly_timeout",
        check=number(exclusive=True),
    )
    _pauses = rule("auth_backoff", "throttle_pause", "shutdown_timeout", check=number())
    _flags = rule("ref16", "validity_period", check=boolean)
    _alphabet = rule("default_alphabet", check=one_of(ALPHABETS))
    _classes = rule("status_classes", check=_status_classes)

    def __post_init__(self) -> None:
        # Not given: the session's own default (4 × response_timeout, derived there), fixed
        # now, so the section reads back as written and a later change of response_timeout
        # (dataclasses.replace) keeps the relink time it was built with.
        if self.relink_after is None:
            object.__setattr__(self, "relink_after", self.relink_timeout)

    @model_validator(mode="before")
    @classmethod
    def _secret(cls, data: Any, info: ValidationInfo) -> Any:
        return with_password(data, info, SMPP_PASSWORD_ENV)

    @model_validator(mode="after")
    def _consistent(self) -> SmppConfig:
        if self.relink_timeout <= self.response_timeout:
            refuse(
                f"must be more than response_timeout ({self.response_timeout:g}): a late "
                "answer is awaited from the timeout until then",
                "relink_after",
            )
        if self.reconnect_max < self.reconnect_min:
            refuse(
                f"must not be less than reconnect_min ({self.reconnect_min:g})",
                "reconnect_max",
                near=("reconnect_min",),
            )
        return self


# The order `check-config` shows the keys in: the example file's.
SHOWN = (
    "host",
    "port",
    "system_id",
    "password",
    "system_type",
    "bind",
    "source_addr",
    "shortcodes",
    "window",
    "tps",
    "enquire_link_interval",
    "response_timeout",
    "receipt_timeout",
    "relink_after",
    "bind_stable_after",
    "validity_period",
    "connect_timeout",
    "reconnect_min",
    "reconnect_max",
    "auth_backoff",
    "throttle_pause",
    "shutdown_timeout",
    "mo_reassembly_timeout",
    "ref16",
    "default_alphabet",
    "status_classes",
)
