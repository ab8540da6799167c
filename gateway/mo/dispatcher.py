"""MO → keyword → handler → reply, stored with the MO before the SMSC gets its answer.

The session calls `Dispatcher.receive` for each MO and sends deliver_sm_resp when it
returns. By then the MO and its reply (if any) are committed together, so a crash
afterwards loses nothing: the reply waits in the outbox, at the front of the queue
(the MO-reply lane), and goes out after a restart. A crash before the commit means no
deliver_sm_resp, and the SMSC delivers the MO again.

Handlers are modules in `handlers/` named by the `keywords:` section (see
`gateway.mo.api`, the only thing a handler imports). Nothing here knows any particular
keyword: the syntax offered when no keyword matched and the outcome a reply is logged
with come from the handlers' own metadata (`gateway.mo.registry`). Whatever the text,
`receive` stores the MO and decides an outcome: a handler's exception becomes a logged,
counted `handler_error` with an apology sent, never an exception to the session (which
would make the SMSC redeliver it forever).
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

import structlog

from gateway.compose.composer import Composer
from gateway.domain.message import MoRecord, NewMessage, Priority
from gateway.mo.api import Reply, Request
from gateway.mo.context import MoContext
from gateway.mo.guard import MoGuard
from gateway.mo.incoming import CHAT_SENDER, Incoming, Mo, from_chat, incoming
from gateway.mo.registry import HandlerError, Handlers, load_handlers
from gateway.mo.text import parse_mo
from gateway.phone.numbers import PhoneError, mask_phone, normalise_phone
from gateway.settings.agencies import AgencyConfig
from gateway.settings.keywords import MoConfig
from gateway.smpp.text import Encoding
from gateway.store.batch import Batcher
from gateway.store.dossiers import Dossiers
from gateway.store.lanes import urgent
from gateway.store.mo_log import MoLog

__all__ = ["Dispatcher", "DispatcherSettings", "HandlerError", "load_handlers"]

log = structlog.get_logger("gateway.mo.dispatcher")

NOT_UNDERSTOOD = "Tin nhắn chưa đúng cú pháp. Soạn: {syntax} gửi {shortcode}"
# With no keyword configured at all there is no syntax to offer.
NOT_UNDERSTOOD_BARE = "Tin nhắn chưa đúng cú pháp."
HANDLER_FAILED = "Hệ thống đang bận, quý Ông/Bà vui lòng gửi lại sau ít phút."
# The handler a bare receipt number in the Zalo chat is a question for.
LOOKUP = "mckh"


@dataclass(frozen=True, slots=True)
class DispatcherSettings:
    """What the MO path reads of the configuration (built by the composition root)."""

    keywords: Mapping[str, str]  # keyword → handler module
    mo: MoConfig  # the guard's limits, `max_lookups`
    agencies: Mapping[str, AgencyConfig]  # what handlers' replies are rendered with
    shortcodes: tuple[str, ...]  # `smpp.shortcodes`, the first the default
    tz: ZoneInfo  # the office's date, which a lookup's timeliness is told by
    encoding: Encoding  # the sender's, for handlers that count segments


class Dispatcher:
    """Reads recent MOs from and writes each MO with its reply to `mo_log`; handlers
    look dossiers up in `dossiers`."""

    def __init__(
        self,
        mo_log: MoLog,
        dossiers: Dossiers,
        composer: Composer,
        settings: DispatcherSettings,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._mo_log = mo_log
        self._dossiers = dossiers
        self._composer = composer
        self._settings = settings
        self._clock = clock
        self._handlers: Handlers = load_handlers(settings.keywords)
        self._guard = MoGuard(
            rate_limit=settings.mo.rate_limit,
            rate_window=settings.mo.rate_window,
            duplicate_window=settings.mo.duplicate_window,
        )
        self._writer: Batcher[tuple[MoRecord, NewMessage | None]] = Batcher(
            self._mo_log.record_mos, max_wait=0.0
        )
        self.outcomes: Counter[tuple[str, str]] = Counter()  # (keyword or "-", outcome)

    async def __aenter__(self) -> Dispatcher:
        mo = self._settings.mo
        since = self._clock() - max(mo.rate_window, mo.duplicate_window)
        self._guard.prime(_by_phone(await self._mo_log.recent_mos(since)))
        with urgent():  # the writer's task, created here, commits in the urgent lane
            await self._writer.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._writer.__aexit__(*exc)

    def reconfigure(self, settings: DispatcherSettings) -> None:
        """Take a reloaded configuration (SIGHUP): keywords, MO limits, agencies. Raises
        HandlerError, changing nothing, when a keyword names a module that is not a
        handler."""
        self._handlers = load_handlers(settings.keywords)
        self._settings = settings
        self._guard.retune(
            rate_limit=settings.mo.rate_limit,
            rate_window=settings.mo.rate_window,
            duplicate_window=settings.mo.duplicate_window,
        )

    async def receive(self, mo: Mo) -> None:
        """Decide, then commit the MO with its reply; returns once both are stored.
        The citizen is waiting: the store serves its lookups first (`lanes.urgent`)."""
        with urgent():
            await self._receive(incoming(mo))

    async def receive_chat(self, user: str, text: str) -> None:
        """A citizen's text in the Zalo chat: decided as an MO, answered in the chat."""
        lookup = next((k for k, h in self._settings.keywords.items() if h == LOOKUP), None)
        chat = from_chat(
            user,
            text,
            keywords=self._handlers.keywords,
            lookup=lookup,
            shortcode=self._settings.shortcodes[0],
        )
        with urgent():
            await self._receive(chat)

    async def _receive(self, mo: Incoming) -> None:
        now = self._clock()
        parsed = parse_mo(mo.text, self._handlers.keywords)
        shortcode = self._shortcode(mo.destination)
        outcome, reply = await self._decide(mo, parsed.keyword, parsed.argument, shortcode, now)
        if reply is not None and mo.link is not None:
            reply = replace(reply, link=mo.link)  # back by the MO's link
        record = MoRecord(
            at=now,
            sender=mo.sender,
            shortcode=shortcode,
            text=parsed.text,
            keyword=parsed.keyword,
            outcome=outcome,
            reply_ref=reply.ref if reply is not None else None,
        )
        try:
            await self._writer.put((record, reply))
        except BaseException:
            # Not stored: the SMSC (no deliver_sm_resp) or Zalo (a 500) sends it again,
            # and that one must be answered, not taken for a duplicate of this one.
            key = _guard_key(mo)
            if key is not None:
                self._guard.undo(key, mo.text.strip(), now)
            raise
        self.outcomes[(parsed.keyword or "-", record.outcome)] += 1
        log.info(
            "mo_handled",
            sender=_masked(mo),
            shortcode=shortcode,
            keyword=parsed.keyword,
            outcome=record.outcome,
            parts=mo.parts,
            complete=mo.complete,
        )

    async def _decide(
        self, mo: Incoming, keyword: str | None, argument: str, shortcode: str, now: float
    ) -> tuple[str, NewMessage | None]:
        phone = _guard_key(mo)
        if phone is None:
            # Alphanumeric senders, short codes, landlines: a reply would go nowhere, or to
            # another machine that answers back (a loop that costs on both sides).
            return "no_reply_sender", None
        refused = self._guard.refuse(phone, mo.text.strip(), now)
        if refused is not None:
            return refused, None
        ref = f"mo:{uuid.uuid4().hex}"
        if keyword is None:
            text = self._not_understood(shortcode)
            return "not_understood", self._reply(Reply(text), phone, shortcode, ref, mo.chat_user)
        handler = self._handlers[keyword]
        settings = self._settings
        context = MoContext(
            dossiers=self._dossiers,
            agencies=settings.agencies,
            encoding=settings.encoding,
            max_lookups=settings.mo.max_lookups,
            today=datetime.fromtimestamp(now, settings.tz).date(),
            services=self._handlers.services(),
        )
        try:
            request = Request(keyword, argument, shortcode, complete=mo.complete)
            reply = await handler.handle(request, context)
        except Exception:
            log.exception("mo_handler_failed", keyword=keyword, handler=handler.name)
            failed = self._reply(Reply(HANDLER_FAILED), phone, shortcode, ref, mo.chat_user)
            return "handler_error", failed
        outcome = reply.outcome or handler.outcome
        return outcome.value, self._reply(reply, phone, shortcode, ref, mo.chat_user)

    def _reply(
        self, reply: Reply, phone: str, shortcode: str, ref: str, chat_user: str | None
    ) -> NewMessage:
        """The reply to the MO's sender, by SMS, or in the Zalo chat it came from."""
        return self._composer.text(
            reply.agency or "",
            ref=ref,
            kind="mo_reply",
            to=None if chat_user is not None else phone,
            text=reply.text,
            priority=Priority.MO_REPLY,
            receipt_no=reply.receipt_no,
            source=shortcode,
            chat_user=chat_user,
        )

    def _not_understood(self, shortcode: str) -> str:
        syntaxes = self._handlers.syntaxes()
        if not syntaxes:
            return NOT_UNDERSTOOD_BARE
        return NOT_UNDERSTOOD.format(syntax=" hoặc ".join(syntaxes), shortcode=shortcode)

    def _shortcode(self, destination: str) -> str:
        """The configured shortcode the MO was sent to (carriers add prefixes: 848083)."""
        digits = "".join(ch for ch in destination if ch.isdigit())
        for code in self._settings.shortcodes:
            if digits.endswith(code):
                return code
        return self._settings.shortcodes[0]


def _guard_key(mo: Incoming) -> str | None:
    """Who the MO is from, as the guard counts it: the normalised number, or the Zalo
    chat's sender as it is; None for a sender no reply goes to."""
    if mo.chat_user is not None:
        return mo.sender
    try:
        return normalise_phone(mo.sender)
    except PhoneError:
        return None


def _masked(mo: Incoming) -> str:
    """The sender as a log line may show it."""
    if mo.chat_user is not None:
        return "zalo chat"
    return mask_phone(mo.sender) if mo.sender.isdigit() else "alphanumeric"


def _by_phone(
    history: Iterable[tuple[float, str, str, str]],
) -> Iterator[tuple[float, str, str, str]]:
    """The MO log's rows keyed as `MoGuard.refuse` keys an MO: by the normalised number.
    The log keeps the sender as the SMSC wrote it (`0905…` or `84905…`), so a redelivery
    after a restart from a national-form sender matched nothing and was answered (and
    paid) twice. Senders no reply goes to are left out: they are never answered."""
    for at, sender, text, outcome in history:
        if sender.startswith(CHAT_SENDER.format(user="")):
            yield at, sender, text, outcome  # a Zalo chat's sender, keyed as it is
            continue
        try:
            phone = normalise_phone(sender)
        except PhoneError:
            continue
        yield at, phone, text, outcome

