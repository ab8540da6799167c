"""Which block of the Vietnamese numbering plan a refused number falls in, for its reason.

phonenumbers decides whether a number is a mobile (gateway.phone.numbers); this only explains a
refusal in terms the desk can check: "089 is not a mobile prefix" would be wrong, since
0896-0899 are mobiles, so the reason names the shortest block with nothing allocated in
it (0891) and the allocated blocks beside it.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberType

__all__ = ["unallocated"]

_COUNTRY_CODE = 84

# phonenumbers' VN metadata tells allocated blocks apart by the first digits: 4 of the
# national significant number (`0896` is allocated, `0891` is not) are always enough.
_BLOCK_DIGITS = 4


def _allocated(prefix: str, length: int, kind: int) -> bool:
    """Whether some number of `kind` and `length` digits starts with `prefix`, by
    phonenumbers: every completion of the prefix to `_BLOCK_DIGITS` digits is tried."""
    free = max(0, _BLOCK_DIGITS - len(prefix))
    for n in range(10**free):
        head = prefix + (f"{n:0{free}d}" if free else "")
        for fill in "09":
            nsn = (head + fill * length)[:length]
            number = PhoneNumber(country_code=_COUNTRY_CODE, national_number=int(nsn))
            if phonenumbers.number_type(number) == kind:
                return True
    return False


def _ranges(blocks: list[str]) -> str:
    """`0896, 0897, 0898, 0899` -> `0896-0899`; consecutive last digits become a range."""
    runs: list[list[str]] = []
    for block in blocks:
        if runs and int(block[-1]) == int(runs[-1][-1][-1]) + 1:
            runs[-1].append(block)
        else:
            runs.append([block])
    return ", ".join(", ".join(r) if len(r) < 3 else f"{r[0]}-{r[-1]}" for r in runs)


def unallocated(nsn: str) -> str:
    """Why a national significant number of the right length is no number, naming the
    shortest block that phonenumbers knows nothing in and, when its parent block is in
    use, the allocated blocks beside it: `0891 is not an allocated mobile block (089 has
    only 0896-0899)`. Never the whole number."""
    landline = nsn[0] == "2"
    kind = PhoneNumberType.FIXED_LINE if landline else PhoneNumberType.MOBILE
    what = "area code" if landline else "mobile prefix"
    for k in range(1, _BLOCK_DIGITS + 1):
        if _allocated(nsn[:k], len(nsn), kind):
            continue
        block, parent = "0" + nsn[:k], "0" + nsn[: k - 1]
        if k <= 2 or (landline and k <= 3):
            return f"{block} is not a Vietnamese {what}"
        siblings = [
            parent + d for d in "0123456789" if _allocated(nsn[: k - 1] + d, len(nsn), kind)
        ]
        label = "area code" if landline else "mobile block"
        return f"{block} is not an allocated {label} ({parent} has only {_ranges(siblings)})"
    block = "0" + nsn[:_BLOCK_DIGITS]
    return f"not a valid number in the allocated {block} block"
