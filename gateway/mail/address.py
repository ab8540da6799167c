"""E-mail addresses: the one check of what a job or event may carry in `email`, the check of
a configured From, and the mask logs show instead of an address.

The check is offline and deliberately narrower than RFC 5322: a bare ASCII `local@domain`
(dot-atom local part, a host name of at least two labels), which is what the one-stop
software's forms hold. Quoted local parts, IP literals, comments and internationalised
addresses are refused with a reason rather than sent on to a relay that may mangle them,
so a citizen's notice is either sent to the address typed or refused at once, visibly.
A refusal never repeats the address: it travels in MQTT statuses and logs, and an
address is personal data, like a phone number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import parseaddr

__all__ = [
    "NotText",
    "address_ok",
    "domain_of",
    "mask_address",
    "masked_in",
    "sender_address",
    "sender_ok",
]

MAX_ADDRESS = 254  # RFC 5321's path limit, less the angle brackets
MAX_LOCAL = 64
MAX_DOMAIN = 253

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_TLD = re.compile(r"[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Anything shaped like an address inside a server's reply, for masking it there.
_IN_TEXT = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9.-]+")
# What only a name, a list, a comment, a quoted part or an IP literal would carry.
_NOT_BARE = re.compile(r"[\s<>,;()\"\[\]:\\]")
_BARE = "must be a bare address like ten@example.vn, without a name, <> or spaces"
# A display name the From header can carry as written: no quotes, brackets or list
# separators (which would make it a different header), no '@' (which would pass for an
# address in a mail client).
_NAME_FORBIDDEN = re.compile(r"[\"<>@,;:\\\[\]()]")


@dataclass(frozen=True, slots=True)
class NotText:
    """What stands for an `email` value that is not text (a number, a list, an object):
    the name of its JSON type alone, for the refusal to name. The value itself is not
    kept: a list or an object may well hold the address, which a reason never repeats."""

    type_name: str  # "a number", "a list", ... (as intake's reasons say it)

    def __str__(self) -> str:
        return f"<not text: {self.type_name}>"


def _domain_ok(domain: str) -> str | None:
    if not domain:
        return "has nothing after '@'"
    if len(domain) > MAX_DOMAIN:
        return f"the domain is longer than {MAX_DOMAIN} characters"
    labels = domain.split(".")
    if len(labels) < 2:
        return "the domain has no '.' (a domain name like example.vn is needed)"
    if not all(_LABEL.fullmatch(label) for label in labels):
        return (
            "the domain is not a host name (letters, digits and '-' between dots, like example.vn)"
        )
    if not _TLD.fullmatch(labels[-1]):
        return "the domain does not end in a top-level domain (like .vn or .com)"
    return None


def address_ok(addr: object) -> str | None:
    """None when `addr` is an address a notice may be sent to, else the reason it is not.

    The reason is a sentence fragment for "email: <reason>" and never contains the
    address. No DNS or SMTP lookup is made: whether the mailbox exists is the SMTP
    server's answer at sending (a 5xx refusal fails the notice then).
    """
    if isinstance(addr, NotText):
        return f"must be text (an e-mail address), got {addr.type_name}"
    if not isinstance(addr, str):
        return "must be text (an e-mail address)"
    if not addr.strip():
        return "is empty"
    if _CONTROL.search(addr):
        return "contains a line break or another control character"
    if addr != addr.strip():
        return "has spaces around it"
    if not addr.isascii():
        return "has letters outside ASCII (addresses with diacritics are not supported)"
    if len(addr) > MAX_ADDRESS:
        return f"is longer than {MAX_ADDRESS} characters"
    if _NOT_BARE.search(addr):
        return _BARE
    if addr.count("@") != 1:
        return "must contain exactly one '@'" if "@" in addr else "has no '@'"
    local, domain = addr.split("@")
    if not local:
        return "has nothing before '@'"
    if len(local) > MAX_LOCAL:
        return f"the part before '@' is longer than {MAX_LOCAL} characters"
    if not _LOCAL.fullmatch(local):
        return (
            "the part before '@' has a character an address may not carry, or a '.' at "
            "its start, its end or twice in a row"
        )
    reason = _domain_ok(domain)
    if reason is None and parseaddr(addr) != ("", addr):
        return _BARE  # the stdlib's reading must be the same address
    return reason


def sender_ok(value: object) -> str | None:
    """None when `value` may stand in a From header: a bare address (checked as
    `address_ok`) or `Name <address>`, the name in any script (it is RFC 2047 encoded
    when sent), else the reason."""
    if not isinstance(value, str):
        return 'must be text: an address, or "Name <address>"'
    if _CONTROL.search(value):
        return "contains a line break or another control character"
    written = value.strip()
    if "<" not in written and ">" not in written:
        if "@" not in written:
            return 'must be an address, or "Name <address>"'
        return address_ok(written)
    match = re.fullmatch(r"(?P<name>[^<>]*?)\s*<(?P<addr>[^<>]*)>", written)
    if match is None:
        return 'must be an address, or "Name <address>" with one pair of <>'
    name = match["name"].strip()
    if _CONTROL.search(name):
        return "the name contains a line break or another control character"
    if _NAME_FORBIDDEN.search(name):
        return "the name may not contain quotes, <>, @, commas, semicolons or brackets"
    return address_ok(match["addr"])


def sender_address(value: str) -> str:
    """The bare address of a From accepted by `sender_ok`."""
    return parseaddr(value)[1]


def domain_of(addr: str) -> str:
    """The domain of a bare address, lower-cased (the Message-ID's right-hand side)."""
    return addr.rpartition("@")[2].lower()


def mask_address(addr: str) -> str:
    """`nguyenvana@gmail.com` → `n*********@gmail.com`: the domain (which tells a
    provider's refusal from a typo) and the local part's first character; the rest of the
    local part, which names the person (or is their phone number), never comes out."""
    local, at, domain = str(addr).rpartition("@")
    if not at:
        return "*" * len(domain)
    if len(local) <= 1:
        return f"{'*' * len(local)}@{domain}"
    return f"{local[0]}{'*' * (len(local) - 1)}@{domain}"


def masked_in(text: str) -> str:
    """`text` (an SMTP server's reply, which often repeats the recipient) with every
    address in it masked."""
    return _IN_TEXT.sub(lambda m: mask_address(m.group(0)), text)
