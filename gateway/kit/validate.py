"""`motcua-sms validate`: what the daemon would answer to a payload, before connecting.

A vendor of one-stop software wants to know whether its output would be accepted without a
broker, an SMSC or a province's server. Re-implementing the rules here would drift from
them, so nothing is checked here at all: each payload goes through the daemon's own intake
(`Intake.process`, the same reader, mirror, templates, phone checks and composer) on a
throw-away store, and the statuses that intake commits are exactly the statuses the daemon
would publish on `{prefix}/{agency}/status` (the `queued` ones stop there: nothing is sent).

Payloads of one input are judged in order on one store, as the daemon would take them from
one fresh start: a repeated `event_id` or `id` gets no status, a later event of the same
dossier sees the earlier one's state.

Only routing is decided here, which the daemon learns from the topic and a file does not
carry: the kind (an object with `event_id` is a dossier event, one with `id` or `to` an SMS
job, unless `kind` is given) and the agency (unless given: the only configured agency when
there is one, else `agency` in the payload). A payload that is not a JSON object is judged
as the kind and agency given, or as a dossier event of the first configured agency: both
readers refuse it with the same reason. An agency in the payload that cannot be a topic
level (`SCT/x`, `+`, `#`, empty) would reach the daemon on some agency's topic and never
match it: it is judged on the first configured agency's topic, where the daemon refuses it.
A topic the daemon would not read at all is reported as refused, never as accepted.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.compose.composer import Composer, ComposerSettings
from gateway.domain.status_event import localised
from gateway.intake.consumer import Intake, IntakeSettings, Received
from gateway.intake.payloads import parse_topic
from gateway.settings.agencies import AgencyConfig
from gateway.store.store import Store

KINDS = ("dossier", "sms")


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the daemon would do with the payload on `line` of the input (1 for a whole
    file): the statuses it would publish, or, when it would publish none, why not."""

    line: int
    kind: str | None
    agency: str | None
    statuses: list[dict[str, Any]] = field(default_factory=list)
    note: str | None = None  # set when there is no status; "cannot ..." when not judged

    @property
    def refused(self) -> bool:
        """Rejected by the daemon, or not even routable to it."""
        return self.kind is None or any(s["state"] == "rejected" for s in self.statuses)


def split_payloads(data: bytes) -> list[tuple[int, bytes]]:
    """The payloads in `data` with their line numbers: the whole input as one payload when
    it is one JSON value (a pretty-printed object spanning lines, a single line), or when
    it has at most one non-blank line (something that is not JSON at all: the reader says
    what is wrong with it); otherwise JSON lines, one payload per non-blank line, each
    judged on its own, so that one bad line hides no other."""
    lines = [(n, line.rstrip(b"\r")) for n, line in enumerate(data.split(b"\n"), 1)]
    filled = [(n, line) for n, line in lines if line.strip()]
    if len(filled) > 1 and _json_value(data) is _NOT_JSON:
        return filled
    return [(filled[0][0] if filled else 1, data)]


_NOT_JSON = object()


def _json_value(payload: bytes) -> Any:
    try:
        return json.loads(payload.decode("utf-8-sig"))
    except (ValueError, RecursionError):
        return _NOT_JSON


def route(
    payload: bytes,
    settings: IntakeSettings,
    *,
    kind: str | None = None,
    agency: str | None = None,
) -> tuple[str, str] | str:
    """(kind, agency) under which the daemon would receive `payload`, or why it cannot
    be told (a sentence naming the option to give)."""
    value = _json_value(payload)
    if not isinstance(value, dict):
        return (kind or "dossier", agency or next(iter(settings.agencies), "SCT"))
    if kind is None:
        if "event_id" in value:
            kind = "dossier"
        elif "id" in value or "to" in value:
            kind = "sms"
        else:
            return "cannot tell a dossier event (event_id) from an SMS job (id): give --kind"
    if agency is None:
        agency = _topic_agency(value.get("agency"), settings.agencies, settings.topic_prefix)
    if agency is None:
        return "cannot tell the agency (no agency in the payload): give --agency"
    return kind, agency


def _topic_agency(
    named: object, agencies: Mapping[str, AgencyConfig], prefix: str
) -> str | None:
    """The agency whose topic a payload naming `named` would come in on, None if unknown.

    With one agency configured there is only one topic. Otherwise the payload's own
    agency, as the daemon would see it on that agency's topic; one that cannot be a topic
    level can match no topic, so the first configured agency's stands for them all."""
    if len(agencies) == 1:
        return next(iter(agencies))
    if not isinstance(named, str) or not named.strip():
        return None
    level = named.strip()
    if parse_topic(f"{prefix}/{level}/sms", prefix):
        return level
    return next(iter(agencies), None)


async def judge(
    items: Sequence[tuple[int, bytes]],
    settings: IntakeSettings,
    composer: ComposerSettings,
    *,
    kind: str | None = None,
    agency: str | None = None,
) -> list[Verdict]:
    """Each payload through the daemon's intake, in order, on a store of its own, with
    the daemon's own intake and composer settings (`gateway.app` builds them)."""
    verdicts: list[Verdict] = []
    with tempfile.TemporaryDirectory(prefix="motcua-validate-") as work:
        async with Store.open(Path(work) / "validate.db") as store:
            intake = Intake(store.dossiers, store.outbox, Composer(composer), settings)
            after = 0
            for line, payload in items:
                where = route(payload, settings, kind=kind, agency=agency)
                if isinstance(where, str):
                    verdicts.append(Verdict(line, None, None, note=where))
                    continue
                topic = f"{settings.topic_prefix}/{where[1]}/{where[0]}"
                if parse_topic(topic, settings.topic_prefix) is None:
                    note = f"cannot judge it: the daemon reads nothing on topic {topic!r}"
                    verdicts.append(Verdict(line, None, None, note=note))
                    continue
                repeats = sum(intake.repeats.counts.values())
                await intake.process([Received(topic, payload)])
                rows = await store.statuses.pending(after=after)
                if rows:
                    after = rows[-1][0]
                statuses = [json.loads(localised(row[2], settings.tz)) for row in rows]
                note = None
                if not statuses:
                    note = (
                        "accepted; its id was seen before, so it changes nothing and sends nothing"
                        if sum(intake.repeats.counts.values()) > repeats
                        else "accepted; no message to send for it (its status calls for no "
                        "notice this agency sends, or it is older than the state held)"
                    )
                verdicts.append(Verdict(line, where[0], where[1], statuses, note))
    return verdicts


def render(verdicts: Sequence[Verdict], *, as_json: bool = False) -> str:
    """One line per status (or per payload without one); JSON lines with `as_json`."""
    out: list[str] = []
    for v in verdicts:
        if as_json:
            record = {"line": v.line, "kind": v.kind, "agency": v.agency}
            record |= {"statuses": v.statuses, "note": v.note}
            out.append(json.dumps(record, ensure_ascii=False))
            continue
        if not v.statuses:
            out.append(f"line {v.line}: {v.note}")
        for s in v.statuses:
            text = f"line {v.line}: {s['state']}"
            if s["reason"]:
                text += f": {s['reason']}"
            text += f"  [{v.agency} {s['kind']} {s['id']}, segments {s['segments']}]"
            out.append(text)
    return "".join(line + "\n" for line in out)
