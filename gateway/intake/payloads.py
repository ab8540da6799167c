"""MQTT payloads from the one-stop software, read strictly into dossier events and SMS jobs.

Every payload is untrusted: it comes from each agency's own software, written and changed
by people the province does not control. A payload that cannot be used must come back to
its sender as a `rejected` status whose reason names the field and says what is wrong, so
that their developers can fix their side; it must never raise (one bad message would stop
the intake) and never vanish (a citizen would wait for an SMS that never comes).

So every parser here returns a value, never raises, for any bytes at all: a `DossierEvent`
or `SmsJob` when the payload is usable, else a `Rejection` carrying the offending field, a
reason that starts with that field's name, and whatever the caller needs to correlate the
rejection (the event or job id, the receipt number) when it could be read.

Rules that are not obvious from the SPEC:

- Unknown fields are ignored, so that the one-stop software can add fields before the
  gateway knows them. A key given twice in one object is refused: which value counts
  would be a guess.
- Identifiers and numbers-as-text (receipt numbers, phone numbers, procedure codes) must be
  JSON strings: a JSON number has already lost its leading 0.
- Surrounding whitespace is trimmed from single-line text fields; the phone number is kept
  as sent (it is validated and normalised when a notice is made, so that a bad number does
  not stop the dossier mirror from updating) and SMS text is kept as written.
- Text that cannot be stored or sent is refused here rather than deeper down: control
  characters in one-line fields and unpaired surrogates (from `\\ud800`-style escapes,
  which Python's JSON reader lets through but UTF-8 cannot encode) anywhere.
- A reason never repeats a value that may be a phone number (personal data, and reasons
  travel in MQTT statuses and logs): values are echoed only when short and nearly free of
  digits.

Where each part lives: topics here; bytes to a JSON object in decoding.py; the checks
every field shares, and `Rejection`, in fields.py; a dossier event in dossier.py; an SMS
job in sms.py, its template and params in templates.py. Callers import from this module.

The modules are pure: no I/O, no clock, no asyncio.
"""

from __future__ import annotations

from gateway.intake.decoding import MAX_DEPTH, MAX_PAYLOAD
from gateway.intake.dossier import DossierEvent, parse_dossier
from gateway.intake.fields import KINDS, MAX_ID, Rejection
from gateway.intake.sms import SmsJob, parse_sms
from gateway.intake.templates import Placeholders, TemplateParams

__all__ = [
    "KINDS",
    "MAX_DEPTH",
    "MAX_ID",
    "MAX_PAYLOAD",
    "DossierEvent",
    "Placeholders",
    "Rejection",
    "SmsJob",
    "TemplateParams",
    "parse_dossier",
    "parse_sms",
    "parse_topic",
]


def parse_topic(topic: str, prefix: str) -> tuple[str, str] | None:
    """`("SCT", "dossier")` for `motcua/SCT/dossier`; None for a topic that is not ours.

    The agency is returned whether it is configured or not: an unknown agency gets a
    rejection (published under its topic, where its sender reads), not silence. Topics of
    other kinds, `status` included (our own output), are not work and give None.
    """
    if not isinstance(topic, str) or not isinstance(prefix, str):
        return None
    levels = topic.split("/")
    prefix_levels = prefix.strip("/").split("/") if prefix.strip("/") else []
    if len(levels) != len(prefix_levels) + 2 or levels[: len(prefix_levels)] != prefix_levels:
        return None
    agency, kind = levels[-2], levels[-1]
    if not agency or kind not in KINDS or "+" in agency or "#" in agency:
        return None
    return agency, kind
