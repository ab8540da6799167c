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
from phonenumbers import carrier as _carrier
from phonenumbers.carrierdata import CARRIER_DATA

__all__ = ["CARRIERS", "carrier_key", "carrier_of"]

_NOT_LETTERS = re.compile(r"[^a-z0-9]")


def carrier_key(name: str) -> str:
    """A carrier's name as configuration and routing compare it."""
    return _NOT_LETTERS.sub("", name.lower())


def _known() -> frozenset[str]:
    found = {
        carrier_key(names["en"])
        for prefix, names in CARRIER_DATA.items()
        if prefix.startswith("84") and names.get("en")
    }
    return frozenset(found)


# Every carrier phonenumbers knows a Vietnamese range of (viettel, vinaphone, mobifone, …).
CARRIERS: frozenset[str] = _known()


@lru_cache(maxsize=4096)
def carrier_of(msisdn: str) -> str | None:
    """The carrier key of an international number (`84…`, as normalised), or None when
    its range is in no carrier's list."""
    try:
        parsed = phonenumbers.parse(f"+{msisdn.lstrip('+')}")
    except phonenumbers.NumberParseException:
        return None
    name = _carrier.name_for_number(parsed, "en")
    return carrier_key(name) if name else None
