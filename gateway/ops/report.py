"""`motcua-sms report`: what the supervising departments compare with their dossier counts.

Per agency, procedure or day (in the configured time zone), over the messages created in
[from, to]: notices queued, delivered, not delivered (by reason), rejected (by reason),
skipped, SMS segments used, and MCKH lookups answered (replies a lookup handler gave: not
the help text, not the answer to text that names no keyword). The figures survive the retention
purge, which removes numbers and texts but not states, reasons or segments.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from gateway.domain.states import MessageState
from gateway.store.reporting import Reporting

By = Literal["agency", "procedure", "day"]
Format = Literal["table", "csv", "json"]

_S = MessageState
NOT_DELIVERED = frozenset({_S.UNDELIVERABLE, _S.EXPIRED, _S.FAILED})
# The MO outcome of a reply a lookup handler gave (dispatcher: not "help", "not_understood").
LOOKUP_ANSWERED = "answered"
# States in which the message's segments went to the SMSC (and are billed).
SENT = frozenset({_S.SUBMITTED, _S.DELIVERED, _S.UNDELIVERABLE, _S.EXPIRED})


@dataclass(slots=True)
class Row:
    group: str
    queued: int = 0
    delivered: int = 0
    not_delivered: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    skipped: int = 0
    segments: int = 0
    lookups_answered: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "queued": self.queued,
            "delivered": self.delivered,
            "not_delivered": sum(self.not_delivered.values()),
            "not_delivered_by_reason": dict(self.not_delivered.most_common()),
            "rejected": sum(self.rejected.values()),
            "rejected_by_reason": dict(self.rejected.most_common()),
            "skipped": self.skipped,
            "segments": self.segments,
            "lookups_answered": self.lookups_answered,
        }


async def build(reporting: Reporting, tz: ZoneInfo, start: date, end: date, by: By) -> list[Row]:
    since = datetime.combine(start, time(), tz).timestamp()
    until = datetime.combine(end + timedelta(days=1), time(), tz).timestamp()
    rows: dict[str, Row] = {}
    for message in await reporting.messages_created(since, until):
        agency, procedure, kind, raw_state, reason, segments, created, mo = message
        state = MessageState(raw_state)
        if by == "agency":
            key = agency or "-"
        elif by == "procedure":
            key = procedure or ("(MCKH replies)" if kind == "mo_reply" else "-")
        else:
            key = datetime.fromtimestamp(created, tz).date().isoformat()
        row = rows.setdefault(key, Row(key))
        if kind == "mo_reply":
            if mo == LOOKUP_ANSWERED:
                row.lookups_answered += 1
        elif state is MessageState.REJECTED:
            row.rejected[_reason(reason)] += 1
        elif state is MessageState.SKIPPED:
            row.skipped += 1
        else:
            row.queued += 1
            if state is MessageState.DELIVERED:
                row.delivered += 1
            elif state in NOT_DELIVERED:
                row.not_delivered[_reason(reason)] += 1
        if state in SENT:
            row.segments += segments or 0
    return [rows[k] for k in sorted(rows)]


def render(rows: list[Row], fmt: Format) -> str:
    if fmt == "json":
        return json.dumps([r.as_dict() for r in rows], ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            ["group", "queued", "delivered", "not_delivered", "rejected", "skipped",
             "segments", "lookups_answered", "not_delivered_by_reason", "rejected_by_reason"]
        )  # fmt: skip
        for r in rows:
            d = r.as_dict()
            writer.writerow(
                [d["group"], d["queued"], d["delivered"], d["not_delivered"], d["rejected"],
                 d["skipped"], d["segments"], d["lookups_answered"],
                 _reasons(r.not_delivered), _reasons(r.rejected)]
            )  # fmt: skip
        return out.getvalue()
    return _table(rows)


def _table(rows: list[Row]) -> str:
    heads = ["", "queued", "delivered", "not deliv.", "rejected", "skipped", "segments", "MCKH"]
    lines = [[r.group, r.queued, r.delivered, sum(r.not_delivered.values()),
              sum(r.rejected.values()), r.skipped, r.segments, r.lookups_answered]
             for r in rows]  # fmt: skip
    width = max([len(heads[0]), *(len(str(line[0])) for line in lines)])
    out = [f"{heads[0]:<{width}}" + "".join(f"{h:>12}" for h in heads[1:])]
    for line in lines:
        out.append(f"{line[0]:<{width}}" + "".join(f"{v:>12}" for v in line[1:]))
    for r in rows:
        for title, reasons in (("not delivered", r.not_delivered), ("rejected", r.rejected)):
            for reason, n in reasons.most_common():
                out.append(f"  {r.group} {title}: {n} × {reason}")
    return "\n".join(out) + "\n"


def _reason(reason: str | None) -> str:
    return reason or "(none given)"


def _reasons(counter: Counter[str]) -> str:
    return "; ".join(f"{reason}={n}" for reason, n in counter.most_common())
