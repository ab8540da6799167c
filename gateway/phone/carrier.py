"""The carrier a number's range was first allocated to, from phonenumbers' carrier data.

Numbers are portable in Vietnam (since 2018, MNP), so this is where a number *probably*
is: routing uses it as a preference, never as a certainty. Names are folded to a key
(`carrier_key`: "MobiFone" → "mobifone", "G-Mobile" → "gmobile"), so the configuration
can write them in any case and with or without the dash.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

__all__ = ["carrier_key", "carrier_of", "known_carriers"]

# phonenumbers' carrier data is ~10 MiB once loaded: it is imported on first use (a
# configuration naming a carrier, a link routed by carrier), not by every daemon.

_NOT_LETTERS = re.compile(r"[^a-z0-9]")


def carrier_key(name: str) -> str:
    """A carrier's name as configuration and routing compare it."""
    return _NOT_LETTERS.sub("", name.lower())


@lru_cache(maxsize=1)
def known_carriers() -> frozenset[str]:
    """Every carrier phonenumbers knows a Vietnamese range of (viettel, vinaphone, …)."""
    from phonenumbers.carrierdata import CARRIER_DATA

    return frozenset(
        carrier_key(names["en"])
        for prefix, names in CARRIER_DATA.items()
        if prefix.startswith("84") and names.get("en")
    )


@lru_cache(maxsize=4096)
def carrier_of(msisdn: str) -> str | None:
    """The carrier key of an international number (`84…`, as normalised), or None when
    its range is in no carrier's list."""
    try:
        parsed = phonenumbers.parse(f"+{msisdn.lstrip('+')}")
    except phonenumbers.NumberParseException:
        return None
    from phonenumbers import carrier

    name = carrier.name_for_number(parsed, "en")
    return carrier_key(name) if name else None
