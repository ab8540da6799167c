"""What a notice tells the citizen (`NoticeKind`) and the language its templates are
written in: plain `{name}` fields, nothing else.

The syntax lives in the domain, below settings and compose alike: configuration checks
an agency's template overrides with it when it loads, so a bad one is refused at start-up
(or at SIGHUP) rather than at the first SMS, and the composer fills them with the same
rules (`gateway.compose.templates`).
"""

from __future__ import annotations

import string
import unicodedata
from enum import StrEnum


class TemplateError(ValueError):
    """A template that cannot produce a complete message: bad syntax, field or kind."""


class NoticeKind(StrEnum):
    """What a message tells the citizen; also the key of its template in configuration."""

    RESULT = "result"
    SUPPLEMENT = "supplement"
    APOLOGY = "apology"
    RECEIPT = "receipt"
    PAYMENT = "payment"
    MCKH_REPLY = "mckh_reply"


# The fields the gateway fills from a dossier; an override may use any of them.
TEMPLATE_FIELDS = frozenset(
    {"receipt_no", "agency_name", "due_date", "step", "timeliness", "procedure"}
)

MAX_PLACEHOLDER = 64  # characters in a placeholder's (and so a job param's) name

_FORMATTER = string.Formatter()


def placeholder_name(name: str) -> str | None:
    """`name` as a template placeholder and a job param know it (NFC), or None if it is no
    plain name: the one rule for both, so that every placeholder configuration accepts can
    be filled by a job. Unicode letters are names (`{số_tiền}`, as Vietnamese agencies
    write them); NFC, so that a template typed on one keyboard and a param sent by
    another program's decomposed text still name the same thing.
    """
    name = unicodedata.normalize("NFC", name)
    return name if name.isidentifier() and len(name) <= MAX_PLACEHOLDER else None


def template_fields(template: str) -> frozenset[str]:
    """The field names `template` uses (NFC), for checking an override when configuration loads.

    Only plain `{name}` fields are allowed: positional `{}`, attribute or index access,
    conversions and format specs have no use on text fields and would make an override's
    failure show up at the first SMS instead of at start-up.
    """
    try:
        parsed = list(_FORMATTER.parse(unicodedata.normalize("NFC", template)))
    except ValueError as exc:
        raise TemplateError(f"malformed template: {exc}") from None
    names: set[str] = set()
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if placeholder_name(name) is None:
            raise TemplateError(
                f"template field {{{name}}} is not a plain {{name}} field (letters, digits "
                f"and _, not starting with a digit, at most {MAX_PLACEHOLDER})"
            )
        if spec or conversion:
            raise TemplateError(f"template field {{{name}}} takes no conversion or format spec")
        names.add(name)
    return frozenset(names)

