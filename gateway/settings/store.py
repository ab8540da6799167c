"""The `store:`, `report:` and `admin:` sections: where the gateway keeps its state, what
its figures are priced at, and its local health and metrics endpoint."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from pydantic import ConfigDict, ValidationInfo, field_validator, model_validator

from gateway.settings.secrets import beside, password_text, source_of, with_password
from gateway.settings.values import (
    below,
    boolean,
    entries,
    integer,
    optional,
    refuse,
    rule,
    text,
)

STORE_PASSWORD_ENV = "MOTCUA_SMS_STORE_PASSWORD"
POSTGRESQL = "postgresql://"


@dataclass(frozen=True, slots=True)
class StoreConfig:
    """Where the store is, and how long phone numbers and texts are kept in it.

    `path` is an SQLite file (the default; one daemon per store). `url`
    (`postgresql://user@host:port/dbname`) is a PostgreSQL database instead, which several
    daemons may share; its password comes from `MOTCUA_SMS_STORE_PASSWORD`,
    `password_file` or `password`, like the other secrets, never from the url (which is
    shown and logged). The two are exclusive: a file given beside a url would be one the
    daemon never uses.

    A relative `path` is the config file's directory's, as `password_file` and the TLS
    files are: not the directory the daemon (or `report`) happens to start in.
    """

    __pydantic_config__ = ConfigDict(extra="forbid")

    path: str = "/var/lib/motcua-sms/gateway.db"
    retention_days: int = 365
    url: str | None = None
    password: str | None = field(default=None, repr=False)

    _retention = rule("retention_days", check=integer(minimum=1))
    _password = rule("password", check=optional(password_text))

    @property
    def location(self) -> str:
        """What `Store.open` is given: the url, else the file."""
        return self.url if self.url is not None else self.path

    @model_validator(mode="before")
    @classmethod
    def _engine(cls, data: Any, info: ValidationInfo) -> Any:
        written = entries(data)
        url = written.get("url")
        if url is None:
            for key in ("password", "password_file"):
                if written.get(key) is not None:
                    refuse("a password is for a PostgreSQL store (`url`); an SQLite file "
                           "has none", key)  # fmt: skip
            return written
        section = with_password(written, info, STORE_PASSWORD_ENV)
        if "path" in section:
            refuse("`path` (an SQLite file) and `url` (a PostgreSQL database) are exclusive: "
                   "give one", "url")  # fmt: skip
        section["url"] = below(_postgresql_url, url, "url")
        return section

    @field_validator("path", mode="plain")
    @staticmethod
    def _path(value: Any, info: ValidationInfo) -> str:
        written: str = text()(value)
        return written if written == ":memory:" else str(beside(source_of(info), written))


def _postgresql_url(value: Any) -> str:
    """`value` if it is a usable `postgresql://user@host[:port]/dbname`, else refused."""
    url: str = text()(value)
    if not url.startswith(POSTGRESQL):
        refuse(f"{url!r} is not a PostgreSQL url: postgresql://user@host:port/dbname "
               "(an SQLite file is `path`)")  # fmt: skip
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - reading it checks it
    except ValueError as exc:
        refuse(f"not a valid url ({exc})")
    if parts.password is not None or _query_password(parts.query):
        refuse("the url carries a password, which would be shown and logged with it: give "
               f"it in `password_file` or {STORE_PASSWORD_ENV}")  # fmt: skip
    if not parts.hostname:
        refuse(f"names no server: {POSTGRESQL}user@host:port/dbname")
    if not parts.path.strip("/"):
        refuse(f"names no database: {POSTGRESQL}user@host:port/dbname")
    return url


def _query_password(query: str) -> bool:
    """Whether a url's query gives a password (libpq reads `?password=` as it reads
    `user:pw@`): shown and logged with the url all the same."""
    return any(key.lower() == "password" for key, _ in urllib.parse.parse_qsl(query, True))


@dataclass(frozen=True, slots=True)
class AdminConfig:
    """The local health and metrics endpoint."""

    __pydantic_config__ = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = 9108
    enabled: bool = True

    _host = rule("host", check=text())
    _port = rule("port", check=integer(1, 65535))
    _enabled = rule("enabled", check=boolean)


@dataclass(frozen=True, slots=True)
class ReportConfig:
    """What the figures (`motcua-sms report`, the console) need beyond the store.

    `segment_price` is the carrier's price of one SMS segment in VND, from the contract;
    it differs per contract, so none is assumed: 0 reports no cost.

    `zns_price` is Zalo's price in VND of one ZNS notice delivered (Zalo bills a notice
    the user received, not one it refused or never confirmed, which goes by SMS and is
    billed as SMS). It differs per template type and per the Official Account's price
    list, and changes with Zalo's, so none is assumed either: 0 reports no Zalo cost, as
    `segment_price` does for SMS.

    There is no price for e-mail: a letter goes through the agency's own mail server,
    which costs nothing per letter.
    """

    __pydantic_config__ = ConfigDict(extra="forbid")

    segment_price: int = 0
    zns_price: int = 0

    _segment_price = rule("segment_price", check=integer(minimum=0))
    _zns_price = rule("zns_price", check=integer(minimum=0))
