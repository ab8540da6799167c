"""Turns a dossier transition, an SMS job or an apology into a `NewMessage` row.

Everything about a message that does not depend on the SMSC is decided here, once, at
intake: the number (validated and normalised, or a precise rejection), the text from the
agency's template with diacritics kept or stripped, the number of segments, the priority
lane, when it may go (quiet hours) and when it stops being worth sending (TTL).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from types import MappingProxyType
from zoneinfo import ZoneInfo

from gateway.calendar.workdays import QuietHours
from gateway.compose.letters import letter
from gateway.compose.templates import format_date, render, template_for
from gateway.compose.zns import render_params
from gateway.domain.channel import Channel
from gateway.domain.dossier import DossierRow
from gateway.domain.letter import NewLetter
from gateway.domain.message import NewMessage, Priority
from gateway.domain.notice import TemplateError
from gateway.domain.states import MessageState
from gateway.mail.address import NotText
from gateway.phone.numbers import PhoneError, normalise_phone
from gateway.settings.agencies import AgencyConfig
from gateway.settings.zalo import ZnsTemplate
from gateway.smpp.text import MAX_PARTS, Encoding, ReferenceAllocator

# How a refusal for want of a usable phone (none, landline, impossible) begins its reason.
PHONE_REFUSED = "phone: "


def refused_for_phone(message: NewMessage) -> bool:
    """Whether `message` was refused only for its number: a notice that a later event of
    the same status with a good number must still send (SPEC, "The MQTT contract")."""
    return message.state is MessageState.REJECTED and (message.reason or "").startswith(
        PHONE_REFUSED
    )


@dataclass(frozen=True, slots=True)
class ComposerSettings:
    """What the composer reads of the configuration (built by the composition root)."""

    agencies: Mapping[str, AgencyConfig]  # names, notices, templates, diacritics policy
    tz: ZoneInfo  # quiet hours are local time
    source_addr: str  # `smpp.source_addr`, the brandname notices go from
    # The sender's encoding (`smpp.ref16`, `smpp.default_alphabet`): the segments
    # counted here are the parts it will send.
    encoding: Encoding
    quiet: QuietHours | None  # `schedule.quiet_hours`
    ttl: float  # `retry.ttl`, seconds a message stays worth sending
    # `zalo.templates`: the notice kinds Zalo has an approved template for (none: Zalo off).
    zns: Mapping[str, ZnsTemplate] = field(default_factory=lambda: MappingProxyType({}))


class Composer:
    def __init__(
        self, settings: ComposerSettings, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._refs = ReferenceAllocator(ref16=settings.encoding.ref16)
        self._encoding = settings.encoding
        self._quiet = settings.quiet

    def reconfigure(self, settings: ComposerSettings) -> None:
        """Take a reloaded configuration (SIGHUP): the agencies and their templates. The
        encoding and the quiet hours need a restart, so they stay as they were built."""
        self._settings = settings

    def notice(
        self,
        kind: str,
        dossier: DossierRow,
        *,
        event_id: str | None,
        ref: str,
        priority: Priority = Priority.NOTICE,
    ) -> NewMessage:
        agency = self._settings.agencies[dossier.agency]
        fields = _fields(dossier, agency)
        base = _notice_base(kind, dossier, event_id, ref)
        try:
            text = render(
                template_for(kind, agency.templates), fields, strip=agency.diacritics == "strip"
            )
        except TemplateError as exc:
            return self._final(base, MessageState.REJECTED, f"template: {exc}")
        message = self._message(base, dossier.phone, text, agency, priority)
        return self._by_zalo(message, agency, fields)

    def notice_letter(
        self,
        kind: str,
        dossier: DossierRow,
        *,
        event_id: str | None,
        ref: str,
        address: str | NotText,
    ) -> NewLetter | None:
        """The e-mail copy of the notice `notice(kind, dossier, ...)` makes, to `address`:
        the same template, with its diacritics; None when the agency sends no e-mail or
        the template cannot be filled (the notice is refused for it, and says why)."""
        agency = self._settings.agencies[dossier.agency]
        try:
            body = render(
                template_for(kind, agency.templates), _fields(dossier, agency), strip=False
            )
        except TemplateError:
            return None
        return self._letter(agency, address, _notice_base(kind, dossier, event_id, ref), body)

    def text_letter(
        self, agency_code: str, *, ref: str, kind: str, text: str, address: str | NotText
    ) -> NewLetter | None:
        """The e-mail copy of a ready text (an SMS job), as written."""
        agency = self._settings.agencies.get(agency_code)
        if agency is None:
            return None
        base = {"agency": agency_code, "ref": ref, "kind": kind, "event_id": None,
                "receipt_no": None, "procedure": None}  # fmt: skip
        return self._letter(agency, address, base, render("{t}", {"t": text}, strip=False))

    def _letter(
        self,
        agency: AgencyConfig,
        address: str | NotText,
        base: Mapping[str, str | None],
        body: str,
    ) -> NewLetter | None:
        now = self._clock()
        not_before = self._not_before(now, Priority.NOTICE)
        return letter(
            agency,
            address=address,
            base=base,
            body=body,
            not_before=not_before,
            expires_at=not_before + self._settings.ttl,
            now=now,
        )

    def _not_before(self, now: float, priority: Priority) -> float:
        """When a message made now may go: at once, or at the end of quiet hours."""
        if priority is Priority.MO_REPLY or self._quiet is None:
            return now
        at = datetime.fromtimestamp(now, UTC)
        return self._quiet.release_at(at, self._settings.tz).timestamp()

    def _by_zalo(
        self, message: NewMessage, agency: AgencyConfig, fields: Mapping[str, str]
    ) -> NewMessage:
        """`message` to go by Zalo first when its agency prefers Zalo and Zalo has a
        template for its kind; its SMS text stays, for the fallback. A template whose
        wording needs a field this dossier lacks (no due date) leaves the notice to SMS:
        Zalo refuses a template message with a parameter missing."""
        template = self._settings.zns.get(message.kind)
        if (
            template is None
            or message.state is not MessageState.QUEUED
            or agency.channels[0] is not Channel.ZALO
        ):
            return message
        try:
            params = render_params(template, fields)
        except TemplateError:
            return message
        zns = {"template_id": template.template_id, "params": params}
        return replace(message, channel=Channel.ZALO, zns=json.dumps(zns, ensure_ascii=False))

    def text(
        self,
        agency_code: str,
        *,
        ref: str,
        kind: str,
        to: str | None,
        text: str,
        priority: Priority = Priority.NOTICE,
        receipt_no: str | None = None,
        source: str | None = None,
        chat_user: str | None = None,
    ) -> NewMessage:
        """A ready text (SMS job, MO reply): only the agency's diacritics policy applies.
        With `chat_user`, a reply in the Zalo chat: no number, no segments, the same
        words as by SMS."""
        agency = self._settings.agencies.get(agency_code)
        base = {
            "agency": agency_code,
            "ref": ref,
            "kind": kind,
            "event_id": None,
            "receipt_no": receipt_no,
            "procedure": None,
        }
        strip = agency is None or agency.diacritics == "strip"
        if chat_user is not None:
            return self._chat(base, chat_user, render("{t}", {"t": text}, strip=strip), source)
        return self._message(
            base, to, render("{t}", {"t": text}, strip=strip), agency, priority, source=source
        )

    def _chat(self, base: dict, user: str, text: str, source: str | None) -> NewMessage:
        now = self._clock()
        return NewMessage(
            **base,
            source=source or self._settings.source_addr,
            priority=int(Priority.MO_REPLY),
            state=MessageState.QUEUED,
            not_before=now,
            expires_at=now + self._settings.ttl,
            text=text,
            channel=Channel.ZALO,
            chat_user=user,
        )

    def skipped(
        self, kind: str, dossier: DossierRow, *, event_id: str, ref: str, reason: str
    ) -> NewMessage:
        return self._final(_notice_base(kind, dossier, event_id, ref), MessageState.SKIPPED, reason)

    def rejected(self, agency: str, *, ref: str, kind: str, reason: str) -> NewMessage:
        """Kept as a row (not only a status) so that a repeated job id stays answered."""
        base = {
            "agency": agency,
            "ref": ref,
            "kind": kind,
            "event_id": None,
            "receipt_no": None,
            "procedure": None,
        }
        return self._final(base, MessageState.REJECTED, reason)

    # -- helpers ---------------------------------------------------------------------

    def _message(
        self,
        base: dict,
        raw_phone: str | None,
        text: str,
        agency: AgencyConfig | None,
        priority: Priority,
        source: str | None = None,
    ) -> NewMessage:
        try:
            phone = normalise_phone(raw_phone)
        except PhoneError as exc:
            detail = str(exc).removeprefix("phone: ")
            reason = f"{PHONE_REFUSED}{exc.reason} ({detail})"
            return self._final(base, MessageState.REJECTED, reason, text=text)
        segments = self._encoding.segments(text)
        if segments > MAX_PARTS:
            # Refused here, where the sender of the job hears why, not by the encoder in
            # the sender long after the job was acknowledged.
            return self._final(
                base,
                MessageState.REJECTED,
                f"text: needs {segments} SMS parts; concatenation allows at most {MAX_PARTS}",
            )
        not_before = self._not_before(self._clock(), priority)
        return NewMessage(
            **base,
            source=source or self._settings.source_addr,
            priority=int(priority),
            state=MessageState.QUEUED,
            not_before=not_before,
            expires_at=not_before + self._settings.ttl,
            phone=phone,
            text=text,
            segments=segments,
            # A one-part SMS carries no concatenation header: it takes no reference, and
            # its number no place in the allocator's table (100,000 of them queued held
            # some 15 MiB there).
            concat_ref=self._refs.next(phone) if segments > 1 else 0,
        )

    def _final(
        self, base: dict, state: MessageState, reason: str, text: str | None = None
    ) -> NewMessage:
        now = self._clock()
        return NewMessage(
            **base,
            source=self._settings.source_addr,
            priority=int(Priority.NOTICE),
            state=state,
            reason=reason,
            not_before=now,
            expires_at=now,
            text=text,
            segments=self._encoding.segments(text) if text else 0,
        )


def _fields(dossier: DossierRow, agency: AgencyConfig) -> dict[str, str]:
    """What a notice's template is filled with, from the dossier as the mirror holds it."""
    fields = {
        "receipt_no": dossier.receipt_no,
        "agency_name": agency.name,
        "step": dossier.step,
        "procedure": dossier.procedure,
    }
    if dossier.due_date:
        fields["due_date"] = format_date(date.fromisoformat(dossier.due_date))
    return fields


def _notice_base(kind: str, dossier: DossierRow, event_id: str | None, ref: str) -> dict:
    return {
        "agency": dossier.agency,
        "ref": ref,
        "kind": kind,
        "event_id": event_id,
        "receipt_no": dossier.receipt_no,
        "procedure": dossier.procedure,
    }
