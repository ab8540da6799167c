"""The `store:`, `report:` and `admin:` sections: where the gateway keeps its state, what
its figures are priced at, and its local health and metrics endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ConfigDict, ValidationInfo, field_validator

from gateway.settings.secrets import beside, source_of
from gateway.settings.values import boolean, integer, rule, text


@dataclass(frozen=True, slots=True)
class StoreConfig:
    """The SQLite file, and how long phone numbers and texts are kept in it.

    A relative `path` is the config file's directory's, as `password_file` and the TLS
    files are: not the directory the daemon (or `report`) happens to start in.
    """

    __pydantic_config__ = ConfigDict(extra="forbid")

    path: str = "/var/lib/motcua-sms/gateway.db"
    retention_days: int = 365

    _retention = rule("retention_days", check=integer(minimum=1))

    @field_validator("path", mode="plain")
    @staticmethod
    def _path(value: Any, info: ValidationInfo) -> str:
        written: str = text()(value)
        return written if written == ":memory:" else str(beside(source_of(info), written))


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
