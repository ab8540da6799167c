"""Repeated ids: how intake tells a redelivery from an id reused for other content.

A repeated `event_id` or job `id` sends nothing and publishes nothing (SPEC: a repeated id
changes nothing): the agency's status topic is keyed by id, and a `rejected` for an id
whose first message was delivered would contradict the real status. What the gateway
can do is tell the operator: each repeat is counted by kind and by whether its content
matches the first (`motcua_repeated_ids_total{kind,content}`), and a reuse for other
content is logged as a warning, since that is an integration error on the agency's side
(an id counter reset, two programs numbering alike).

Content is compared by a digest of the parsed payload (not its bytes: a resend need not
keep key order or spacing). The digest covers the phone number, so it is personal data
for the retention purge, which clears it; a repeat of an id whose digest is gone is
counted as `unknown`.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import fields
from enum import StrEnum
from typing import Any

import structlog

from gateway.intake.payloads import DossierEvent, SmsJob

log = structlog.get_logger("gateway.intake.consumer")


class Content(StrEnum):
    """How a repeat's content compares with the first message of its id."""

    SAME = "same"
    DIFFERENT = "different"
    UNKNOWN = "unknown"  # the first message's digest was purged with its personal data


def digest(item: DossierEvent | SmsJob) -> str:
    """What the payload says, apart from its id, as a short fixed-length hash."""
    values: dict[str, Any] = {f.name: getattr(item, f.name) for f in fields(item)}
    values.pop("event_id" if isinstance(item, DossierEvent) else "id")
    if isinstance(item, SmsJob):
        values["params"] = dict(item.params)
    if values.get("email") is None:
        # Payloads without an address hash as they did before `email` was read, so a
        # redelivery after an upgrade is still known for the same content.
        values.pop("email", None)
    canonical = json.dumps(values, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


class Repeats:
    """Counts repeated ids, by kind (`event`, `job`) and content, for /metrics."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()

    def seen(self, kind: str, agency: str, first: str | None, again: str) -> None:
        """A message of `kind` whose id was already taken (first digest `first`) came
        again with digest `again`. Logged without id or content: only the agency, the kind
        and how the content compares."""
        if first is None:
            content = Content.UNKNOWN
        else:
            content = Content.SAME if first == again else Content.DIFFERENT
        self.counts[(kind, content.value)] += 1
        if content is Content.DIFFERENT:
            log.warning("intake_id_reused", agency=agency, kind=kind, content=content.value)
        else:
            log.info("intake_id_repeated", agency=agency, kind=kind, content=content.value)
