"""The fast path of `normalise_phone`: a number already written plainly, told MOBILE cheaply.

Why: the apology run and MO replies compose from the mirror, whose numbers intake has
already normalised (`84` + 9 digits), and most desks type `0` + 9 digits. For such a number
phonenumbers' `number_type` builds a PhoneNumber and walks its metadata objects, a third of
a notice's composing. The same decision is taken here from the same VN metadata (the
possible lengths, the patterns, the order in which `number_type` tries the types), compiled
once per length at import. Only a yes is answered here; anything else (every refusal, every
number with layout or another form) goes through the full path in `gateway.phone.numbers`,
so there is one set of rules and this is only a shortcut to its answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import phonenumbers

__all__ = ["plain_mobile_nsn"]

# `0` + 9 digits or `84` + 9 digits and nothing else, starting as mobile NSNs start.
_PLAIN_FORM = re.compile(r"(?:0|84)([35789][0-9]{8})")

_Desc = tuple[frozenset[int], re.Pattern[str]]


def _matcher(desc: object) -> _Desc | None:
    """A number description of the metadata as (possible lengths, compiled pattern)."""
    pattern = getattr(desc, "national_number_pattern", None)
    if pattern is None:
        return None
    return frozenset(getattr(desc, "possible_length", ()) or ()), re.compile(pattern)


def _fits(desc: _Desc, length: int) -> bool:
    """phonenumbers tries a description's pattern only when its lengths allow `length`."""
    return not desc[0] or length in desc[0]


def _mobile_by_length(lengths: Iterable[int]) -> dict[int, Callable[[str], bool]] | None:
    """Per NSN length, `nsn -> bool`: whether `number_type` says MOBILE. None when the
    metadata gives one pattern to fixed and mobile lines (only the full path tells)."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region("VN")
    if meta is None or meta.same_mobile_and_fixed_line_pattern:
        return None
    general, mobile = _matcher(meta.general_desc), _matcher(meta.mobile)
    if general is None or mobile is None:
        return None
    # Every type number_type tries before MOBILE, in its order: matching one is not MOBILE.
    earlier = [
        m
        for m in map(_matcher, (
            meta.premium_rate, meta.toll_free, meta.shared_cost, meta.voip,
            meta.personal_number, meta.pager, meta.uan, meta.voicemail, meta.fixed_line,
        ))
        if m is not None
    ]  # fmt: skip
    checks: dict[int, Callable[[str], bool]] = {}
    for length in lengths:
        if not (_fits(general, length) and _fits(mobile, length)):
            continue
        # One pattern, one match in C: the whole NSN matches the general description, none
        # of the earlier types' (those whose lengths allow it), and the mobile one.
        whole = [f"(?=(?:{general[1].pattern})\\Z)"]
        whole += [f"(?!(?:{d[1].pattern})\\Z)" for d in earlier if _fits(d, length)]
        whole.append(f"(?:{mobile[1].pattern})")
        fullmatch = re.compile("".join(whole)).fullmatch
        checks[length] = lambda nsn, fullmatch=fullmatch: fullmatch(nsn) is not None
    return checks


_CHECKS = _mobile_by_length([9])


def plain_mobile_nsn(raw: object) -> str | None:
    """The national significant number of `raw` when it is plainly written (`0` or `84`
    and 9 digits, no layout) and phonenumbers would call it MOBILE; else None, and the
    caller takes the full path."""
    if _CHECKS is None or type(raw) is not str:
        return None
    plain = _PLAIN_FORM.fullmatch(raw)
    if plain is None:
        return None
    nsn = plain.group(1)
    check = _CHECKS.get(len(nsn))
    return nsn if check is not None and check(nsn) else None
