"""The `console:` section: the supervisors' web console (`motcua-sms console -c FILE`).

Users are written in the file with a password HASH (`motcua-sms console-password` prints
one), never the password: the file is read by the operator, copied into tickets and kept
in backups. The hash is argon2id in its PHC form (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`),
which carries its own parameters, so hashes made with stronger settings later still verify
beside the old ones. Anything else written there is refused, a plain password first of all.

A `supervisor` sees every agency; an `agency` user only the agency it names, which must be
one of the `agencies:` (checked by `agency_users`, which the configuration root calls).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Literal, get_args

from pydantic import ConfigDict, field_validator

from gateway.settings.explain import file_keys
from gateway.settings.values import (
    below,
    boolean,
    entries,
    integer,
    items,
    not_text,
    one_of,
    optional,
    refuse,
    rule,
    text,
    unknown_key,
)

Role = Literal["supervisor", "agency"]

# The PHC string argon2-cffi writes: variant, version, parameters, salt, hash (base64).
_ARGON2ID = re.compile(
    r"\$argon2id\$v=19\$m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,10})"
    r"\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{16,}"
)
# Parameters past these are no hash anyone meant: each login would take gigabytes or
# seconds of CPU (a console made to fall over by its own configuration). Below argon2's
# own minima (m >= 8 p KiB, t >= 1, p >= 1) it cannot be verified at all.
MAX_MEMORY_KIB = 1024 * 1024  # 1 GiB
MAX_TIME_COST = 20
MAX_PARALLELISM = 64
_USER_NAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_NAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*")


def _host_name(value: Any) -> str:
    name = text()(value).strip().rstrip(".").lower()
    if not _HOST_NAME.fullmatch(name):
        refuse(f"{name!r} is not a host name (letters, digits, '-' and '.', no port)")
    return name


def _host_names(value: Any) -> tuple[str, ...]:
    return tuple(below(_host_name, item, i) for i, item in enumerate(items(value, "host names")))


def _address(value: Any) -> str:
    try:
        return str(ipaddress.ip_address(text()(value).strip()))
    except ValueError:
        refuse(f"{value!r} is not an IP address")
        raise


def _addresses(value: Any) -> tuple[str, ...]:
    return tuple(below(_address, item, i) for i, item in enumerate(items(value, "addresses")))


HASH_HINT = "write the hash that `motcua-sms console-password` prints, not the password"


def _password_hash(value: Any) -> str:
    if not isinstance(value, str):
        not_text("an argon2id hash (text)", secret=True)
    match = _ARGON2ID.fullmatch(value.strip())
    if not match:
        # Never echoed: it may be the password itself.
        refuse(f"not an argon2id hash; {HASH_HINT}")
    memory, time_cost, lanes = (int(group) for group in match.groups())
    if not 1 <= lanes <= MAX_PARALLELISM or time_cost < 1 or memory < 8 * lanes:
        refuse(f"an argon2id hash with parameters argon2 cannot verify; {HASH_HINT}")
    if memory > MAX_MEMORY_KIB or time_cost > MAX_TIME_COST:
        refuse(
            f"argon2id parameters m={memory},t={time_cost} are beyond m={MAX_MEMORY_KIB} "
            f"(1 GiB), t={MAX_TIME_COST}: each login would take that much; {HASH_HINT}"
        )
    return value.strip()


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    """One person who may log in: a supervisor (every agency) or an agency's user."""

    __pydantic_config__ = ConfigDict(extra="forbid")
    NOT_IN_FILE: ClassVar[tuple[str, ...]] = ("name",)

    name: str
    role: Role
    password_hash: str
    agency: str | None = None

    _name = rule("name", check=text())
    _role = rule("role", check=one_of(get_args(Role)))
    _hash = rule("password_hash", check=_password_hash)
    _agency = rule("agency", check=optional(text()))

    def sees(self, agency: str) -> bool:
        """Whether this user may read `agency`'s figures."""
        return self.role == "supervisor" or agency == self.agency


_USER_KEYS = frozenset(file_keys(ConsoleUser))


def _users(value: Any) -> Mapping[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, body in entries(value, "a mapping of user names").items():
        if not isinstance(name, str) or not _USER_NAME.fullmatch(name):
            refuse("a user name is 1 to 64 letters, digits, '_', '.', '@' or '-'", name, "[key]")
        fields = below(entries, body, name)
        for key in fields:
            if key not in _USER_KEYS:
                unknown_key(name, key)
        for needed in ("role", "password_hash"):
            if needed not in fields:
                refuse(f"missing: every user needs a {needed}", name, needed)
        role = fields["role"]
        if role == "agency" and not fields.get("agency"):
            refuse("missing: an agency user names its agency", name, "agency")
        if role == "supervisor" and fields.get("agency"):
            refuse("a supervisor sees every agency: remove `agency`", name, "agency")
        out[name] = {**fields, "name": name}
    return out


@dataclass(frozen=True, slots=True)
class ConsoleConfig:
    """Where the console listens, how long a login lasts, who may log in.

    `secure_cookie` marks the session cookie Secure: for a console behind an HTTPS
    reverse proxy (a browser then never sends it over plain HTTP). Off by default because
    the console listens on 127.0.0.1 over HTTP. Failed logins are counted per user name at
    a client address: past `login_attempts` in `login_window_minutes`, each further try
    waits after the last failure, 30 s and doubling, at most the window (`LoginBrake`).

    `host_names` are the names browsers may reach the console by (the reverse proxy's
    public name, say) besides `localhost` and any IP address: a request naming another
    host is refused, so a web page elsewhere cannot rebind its own name to this address
    and read the console through a supervisor's browser.

    `reads_at_once` store reads (or export builds) run at once in the console's process,
    `reads_queued` more wait for one; past that a page is refused with 503 at once, so no
    user can start scan after scan beside the daemon.
    """

    __pydantic_config__ = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = 9110
    session_minutes: int = 480
    secure_cookie: bool = False
    login_attempts: int = 5
    login_window_minutes: int = 15
    reads_at_once: int = 2
    reads_queued: int = 20
    host_names: tuple[str, ...] = ()
    # The reverse proxies in front of the console: for a request from one of them, the
    # client's address is the last X-Forwarded-For hop that is not a proxy, so the login
    # brake tells apart the people behind it. From anyone else the header is ignored.
    trusted_proxies: tuple[str, ...] = ()
    users: Mapping[str, ConsoleUser] = field(default_factory=lambda: MappingProxyType({}))

    _host = rule("host", check=text())
    _port = rule("port", check=integer(0, 65535))
    _session = rule("session_minutes", check=integer(1, 7 * 24 * 60))
    _secure = rule("secure_cookie", check=boolean)
    _attempts = rule("login_attempts", check=integer(1, 1000))
    _window = rule("login_window_minutes", check=integer(1, 24 * 60))
    _reads = rule("reads_at_once", check=integer(1, 16))
    _queued = rule("reads_queued", check=integer(0, 1000))
    _host_names = rule("host_names", check=_host_names)
    _proxies = rule("trusted_proxies", check=_addresses)

    @field_validator("users", mode="before")
    @classmethod
    def _users_written(cls, value: Any) -> Any:
        return _users(value)

    @field_validator("users", mode="after")
    @classmethod
    def _users_frozen(cls, value: Mapping[str, ConsoleUser]) -> Mapping[str, ConsoleUser]:
        return MappingProxyType(dict(value))


def agency_users(console: ConsoleConfig, agencies: Mapping[str, object]) -> None:
    """Refuse an agency user whose agency is not among `agencies:`."""
    for name, user in console.users.items():
        if user.agency is not None and user.agency not in agencies:
            refuse(
                f"unknown agency {user.agency!r}; one of {', '.join(sorted(agencies))}",
                "console",
                "users",
                name,
                "agency",
            )
