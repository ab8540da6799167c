"""An SMS job (`{prefix}/{agency}/sms`): read strictly into an `SmsJob`.

A job carries either a ready text or a template of its agency with params. The module is
pure: no I/O, no clock, no asyncio. See gateway/intake/payloads.py for the rules every
payload follows.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from gateway.intake import fields as f
from gateway.intake import templates
from gateway.intake.decoding import decode
from gateway.intake.fields import Invalid, Rejection, fail
from gateway.intake.templates import Placeholders
from gateway.mail.address import NotText

MAX_TEXT = 1600


@dataclass(frozen=True, slots=True)
class SmsJob:
    """One message to send (`{prefix}/{agency}/sms`), checked and typed.

    Exactly one of `text` and `template` is set; `params` fills the template (numbers sent
    as JSON numbers are already text here) and is empty for a ready text. `to` is the phone
    number as sent, validated when the message is queued. `email`, as for a dossier
    event, is where the job's e-mail copy goes (checked when the copy is made).
    """

    id: str
    agency: str
    to: str
    text: str | None
    template: str | None
    params: Mapping[str, str]
    email: str | NotText | None = None


def _job_id(obj: Mapping[str, Any]) -> str:
    return f.required(obj, "id", max_len=f.MAX_ID)


def _read(obj: Mapping[str, Any], topic_agency: str, placeholders: Placeholders | None) -> SmsJob:
    job_id = _job_id(obj)
    agency = f.agency(obj, topic_agency, required=False)
    to = f.required(obj, "to", max_len=f.MAX_PHONE, strip=False)
    has_text = obj.get("text") is not None
    has_template = obj.get("template") is not None
    if has_text and has_template:
        fail("text", "give either text or template, not both")
    if not has_text and not has_template:
        fail("text", "missing; give text, or template with params")
    text: str | None = None
    template: str | None = None
    params: Mapping[str, str] = MappingProxyType({})
    if has_text:
        text = f.required(obj, "text", max_len=MAX_TEXT, multiline=True, strip=False)
        if obj.get("params") not in (None, {}):  # "" and [] too: not an empty object
            fail("params", "given with text; params go with a template")
    else:
        template, takes = templates.template(obj, placeholders, agency)
        params = templates.params(obj)
        if takes is not None:
            templates.check_params(template, params, takes)
    return SmsJob(
        id=job_id,
        agency=agency,
        to=to,
        text=text,
        template=template,
        params=params,
        email=f.email(obj),
    )


def parse_sms(
    payload: bytes,
    *,
    topic_agency: str,
    agencies: Collection[str],
    templates: Placeholders | None = None,
    size: int | None = None,
) -> SmsJob | Rejection:
    """The SMS job in `payload` (from `{prefix}/{topic_agency}/sms`), or why not.

    `templates(name)` gives the placeholders of the agency's template of that name, or
    None when it has none; `params` must then fill exactly those placeholders. Without
    it any well-formed name and any params are accepted. `agency` in the payload is
    optional (the topic says it).
    Never raises for any payload; the first bad field found is the one reported.
    """
    ref: str | None = None
    try:
        obj = decode(payload, size)
        ref = f.peek(_job_id, obj)
        f.check_topic_agency(topic_agency, agencies)
        return _read(obj, topic_agency, templates)
    except Invalid as exc:
        return f.rejection(f.SMS, topic_agency, exc, ref=ref)
