"""The `smsc:` section: several SMSC links (an aggregator, or one account per carrier).

Each link is an `smpp:` section (`SmppConfig`: host, credentials, bind mode, window and
TPS per session, source address, status classes, timeouts) plus what makes it one of
several:

- `id`: its name in the message rows, the metrics' `link` label, `/healthz` and logs;
- `binds`: how many sessions to open on the account (carriers grant several, each with
  its own window and `tps`), and `account_tps`: the carrier's cap over all of them;
- `routes`: which messages it takes, in order of preference (`Route`);
- `reroute`: the submit_sm statuses that mean "try the next matching link" (a carrier
  refusing for want of credit or a full queue), and `failover_after`: how long a message
  waits for this link to be bound before it goes to the next one.

The password comes, as for `smpp:`, from the environment, `password_file` or `password`:
the variable is `MOTCUA_SMS_SMSC_<ID>_PASSWORD`, the id upper-cased with every character
that is not a letter or a digit written `_`
(link `viettel-2` → `MOTCUA_SMS_SMSC_VIETTEL_2_PASSWORD`).

The single `smpp:` section of earlier versions is the link `default` with one route,
`default: true` (`single_link`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar

from pydantic import ConfigDict, ValidationInfo, model_validator

from gateway.phone.carrier import carrier_key, known_carriers
from gateway.settings.secrets import with_password
from gateway.settings.smpp import SmppConfig, _status_code
from gateway.settings.values import (
    below,
    boolean,
    close_match,
    entries,
    integer,
    items,
    number,
    refuse,
    rule,
    text,
    unknown_key,
)
from gateway.smpp.pdu import StatusClass, StatusTable, status_name

DEFAULT_LINK = "default"
ROUTE_KEYS = ("carrier", "prefix", "agency", "default")
_LINK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
_NOT_ALNUM = re.compile(r"[^A-Z0-9]")


def password_env(link_id: str) -> str:
    """The environment variable a link's password is read from."""
    return f"MOTCUA_SMS_SMSC_{_NOT_ALNUM.sub('_', link_id.upper())}_PASSWORD"


@dataclass(frozen=True, slots=True)
class Route:
    """What a link takes. Every key given must match; a route with none but `default`
    takes everything. `carrier` is where the number's range was first allocated (numbers
    are portable: a preference), `prefix` the international digits it starts with."""

    carrier: str | None = None
    prefix: str | None = None
    agency: str | None = None
    default: bool = False

    def matches(self, phone: str, agency: str, carrier: str | None) -> bool:
        if self.carrier is not None and self.carrier != carrier:
            return False
        if self.prefix is not None and not phone.startswith(self.prefix):
            return False
        return self.agency is None or self.agency == agency

    def covers(self, other: Route) -> bool:
        """Every message `other` matches, this one matches too: a default, or no key
        `other` does not give as narrowly (a prefix of its prefix, the same carrier or
        agency)."""
        if self.default:
            return True
        if other.default:
            return False
        if self.carrier is not None and self.carrier != other.carrier:
            return False
        if self.prefix is not None and not (other.prefix or "").startswith(self.prefix):
            return False
        return self.agency is None or self.agency == other.agency

    def describe(self) -> str:
        said = [
            f"{key}={getattr(self, key)}"
            for key in ("carrier", "prefix", "agency")
            if getattr(self, key) is not None
        ]
        return " ".join(said) if said else "default"


EVERYTHING = (Route(default=True),)


def _carrier(value: Any) -> str:
    name = carrier_key(text()(value))
    carriers = known_carriers()
    if name not in carriers:
        close = close_match(name, sorted(carriers))
        hint = f"; did you mean {close!r}?" if close else ""
        refuse(f"unknown carrier {value!r}: one of {', '.join(sorted(carriers))}{hint}")
    return name


def _prefix(value: Any) -> str:
    digits: str = text(expected='quoted digits, e.g. "8498" or "098"')(value)
    if not digits.isdigit():
        refuse(f"must be digits only, got {digits!r}")
    if digits.startswith("0"):
        digits = "84" + digits[1:]  # national form: the numbers are matched as 84…
    if not digits.startswith("84"):
        refuse(f"must start with 84 or 0 (numbers are sent as 84…), got {value!r}")
    return digits


def _route(value: Any) -> Route:
    given = entries(value, "a route such as `carrier: viettel` or `default: true`")
    for key in given:
        if key not in ROUTE_KEYS:
            unknown_key(key)
    if not given:
        refuse(f"an empty route: give one of {', '.join(ROUTE_KEYS)}")
    default = below(boolean, given["default"], "default") if "default" in given else False
    if "default" in given and not default:
        refuse("write `default: true`, or leave the key out", "default")
    if default and len(given) > 1:
        refuse("a default route takes everything: it has no other key", "default")
    return Route(
        carrier=below(_carrier, given["carrier"], "carrier") if "carrier" in given else None,
        prefix=below(_prefix, given["prefix"], "prefix") if "prefix" in given else None,
        agency=below(text(), given["agency"], "agency") if "agency" in given else None,
        default=default,
    )


def _routes(value: Any) -> tuple[Route, ...]:
    found = tuple(below(_route, item, i) for i, item in enumerate(items(value, "routes")))
    if not found:
        refuse("needs at least one route (`- default: true` takes everything)")
    return found


def _link_id(value: Any) -> str:
    name: str = text()(value)
    if not _LINK_ID.fullmatch(name):
        refuse(
            f"must be 1-32 letters, digits, '_' or '-', starting with a letter or digit, "
            f"got {name!r}"
        )
    return name


def _reroute(value: Any) -> frozenset[int]:
    listed = items(value, 'command_status values, e.g. ["ESME_RMSGQFUL", "0x45"]')
    return frozenset(below(_status_code, item, i) for i, item in enumerate(listed))


@dataclass(frozen=True, slots=True)
class LinkConfig(SmppConfig):
    """One SMSC link: an `smpp:` section with its id, sessions, account cap and routes."""

    __pydantic_config__ = ConfigDict(extra="forbid")
    ALSO_IN_FILE: ClassVar[tuple[str, ...]] = ("password_file",)

    id: str = DEFAULT_LINK
    binds: int = 1
    account_tps: float = 0.0  # 0: only each session's `tps`
    routes: tuple[Route, ...] = EVERYTHING
    reroute: frozenset[int] = frozenset()
    failover_after: float = 5.0

    _id = rule("id", check=_link_id)
    _binds = rule("binds", check=integer(1, 64))
    _account_tps = rule("account_tps", check=number())
    _route_list = rule("routes", check=_routes)
    _reroute_list = rule("reroute", check=_reroute)
    _failover = rule("failover_after", check=number(exclusive=True))

    @model_validator(mode="before")
    @classmethod
    def _secret(cls, data: Any, info: ValidationInfo) -> Any:
        section = entries(data)
        name = section.get("id")
        if not isinstance(name, str) or not name:
            refuse("missing: every link needs an id", "id")
        return with_password(section, info, password_env(name))

    @model_validator(mode="after")
    def _reroutable(self) -> LinkConfig:
        # The session absorbs throttle and rebind answers and returns an ok one: only a
        # status that reaches the sender (transient or permanent) can send a part elsewhere.
        table = StatusTable(self.status_classes)
        for code in sorted(self.reroute):
            cls = table.classify(code)
            if cls not in (StatusClass.TRANSIENT, StatusClass.PERMANENT):
                refuse(
                    f"{status_name(code)} is classed {cls.value!r}: the session handles it on "
                    "this link and it never reaches routing; list transient or permanent "
                    "statuses, or reclassify it in status_classes",
                    "reroute",
                )
        return self

    @property
    def default_route(self) -> bool:
        return any(r.default for r in self.routes)


# The keys `check-config` shows for a link, beyond `smpp:`'s.
LINK_KEYS = ("id", "binds", "account_tps", "routes", "reroute", "failover_after")


def single_link(smpp: SmppConfig) -> LinkConfig:
    """The `smpp:` section as the one link, `default`, taking every message."""
    values = {f.name: getattr(smpp, f.name) for f in fields(SmppConfig)}
    link = LinkConfig.__new__(LinkConfig)
    for name, value in values.items():
        object.__setattr__(link, name, value)
    for name, value in (("id", DEFAULT_LINK), ("binds", 1), ("account_tps", 0.0),
                        ("routes", EVERYTHING), ("reroute", frozenset()),
                        ("failover_after", 5.0)):  # fmt: skip
        object.__setattr__(link, name, value)
    return link


# Keys read once for the whole gateway, from the first link, and why: a later link
# inherits them, and one that gives another value is refused (it would be shown as that
# link's and ignored).
FIRST_LINKS = {
    "ref16": "the composer counts every message's parts, and the sender cuts them, once, "
    "whichever link they go by",
    "default_alphabet": "the composer counts every message's parts, and the sender cuts "
    "them, once, whichever link they go by",
    "receipt_timeout": "one receipt-expiry sweep runs for every link",
}


def links_checked(value: Any) -> tuple[Any, ...]:
    """The `smsc:` list before each link is read: a list, not empty; a later link that
    does not give a `FIRST_LINKS` key takes the first link's."""
    listed = items(value, "links (each a mapping with id, host, port, … and routes)")
    if not listed:
        refuse("needs at least one link, or leave `smsc:` out and use `smpp:`")
    first = listed[0]
    if not isinstance(first, dict):
        return tuple(listed)
    shared = {key: first[key] for key in FIRST_LINKS if key in first}
    return (first, *(
        {**shared, **link} if isinstance(link, dict) else link for link in listed[1:]
    ))  # fmt: skip


def check_links(links: Sequence[LinkConfig], agencies: Sequence[str]) -> None:
    """What only the whole list can tell: ids unique (and their password variables),
    agencies known, every number taken, `FIRST_LINKS` keys as the first link's.

    One link must have a default route: carriers, prefixes and agencies never cover every
    number (a new range, a ported number, an agency added later), and a message no route
    takes would wait for ever."""
    seen: dict[str, int] = {}
    variables: dict[str, int] = {}
    for i, link in enumerate(links):
        if link.id in seen:
            refuse(
                f"link id {link.id!r} is used twice (links {seen[link.id]} and {i})",
                "smsc",
                i,
                "id",
            )
        seen[link.id] = i
        # Ids that differ only in case or in '-'/'_' share one password variable: one
        # carrier's password would go in the other carrier's bind.
        variable = password_env(link.id)
        if variable in variables:
            first = links[variables[variable]].id
            refuse(
                f"link id {link.id!r} reads its password from {variable}, as link "
                f"{first!r} (link {variables[variable]}) does: ids that differ only in case "
                "or in '-' and '_' share one variable; rename one of them",
                "smsc",
                i,
                "id",
            )
        variables[variable] = i
        for key, why in FIRST_LINKS.items():
            if i and (mine := getattr(link, key)) != (theirs := getattr(links[0], key)):
                refuse(
                    f"{mine!r} differs from the first link's ({links[0].id!r}: {theirs!r}): "
                    f"{why}, with the first link's value; give it on the first link only",
                    "smsc",
                    i,
                    key,
                )
        for r, route in enumerate(link.routes):
            if route.agency is not None and route.agency not in agencies:
                refuse(f"unknown agency {route.agency!r}; agencies: {', '.join(agencies)}",
                       "smsc", i, "routes", r, "agency")  # fmt: skip
    if not any(link.default_route for link in links):
        refuse(
            "no link has `default: true` in its routes: a number whose carrier, prefix and "
            "agency no route matches would never be sent; add `- default: true` to one link",
            "smsc",
            len(links) - 1,
            "routes",
        )


def unreachable_routes(links: Sequence[LinkConfig]) -> list[str]:
    """Routes that can never choose their link first, for `check-config` to warn of: those
    after a `default: true` of the same link (it took the message already), and every
    route of a link after one with `default: true` (such a link takes messages only when
    an earlier one fails over: a backup, which may be meant)."""
    found: list[str] = []
    default_at: str | None = None
    for i, link in enumerate(links):
        if default_at is not None:
            found.append(
                f"smsc[{i}] {link.id!r}: after the `default: true` of {default_at!r}, its "
                "routes never choose it first; it takes messages only when an earlier link "
                "fails over"
            )
            continue
        for r, route in enumerate(link.routes):
            if route.default:
                later = len(link.routes) - r - 1
                if later:
                    found.append(
                        f"smsc[{i}] {link.id!r}: the {later} route(s) after its `default: true` "
                        f"(routes[{r}]) never match first: the default took the message already"
                    )
                default_at = link.id
                break
    return found


def routing_table(links: Sequence[LinkConfig]) -> list[str]:
    """The routing table as `check-config` prints it: one line per route, in order."""
    lines = []
    n = 0
    for link in links:
        for route in link.routes:
            n += 1
            lines.append(
                f"{n:>3}. {route.describe():<40} -> {link.id} "
                f"({link.host}:{link.port}, {link.binds} session(s))"
            )
    lines.append("     after a link's failover_after with it unbound, or a `reroute` status:"
                 " the next matching link")  # fmt: skip
    return lines
