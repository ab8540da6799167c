"""The ESME session: keeps a bind to the SMSC and offers `submit()` and inbound delivery.

    async with Session(config, on_deliver) as session:
        message_id = await session.submit(Submit(...))

One class for both bind modes: a transceiver is one `Link`, transmitter + receiver are
two, each kept up by its own supervisor task (bind, serve, reconnect with capped
exponential back-off and jitter; a credentials refusal waits much longer and is logged
as an error, so a wrong password is loud and never a tight loop). A bind counts as
having stayed up only after `bind_stable_after` seconds: an SMSC that accepts the bind
and drops it at once meets a growing back-off, not a reconnection every second.

The window is a semaphore held from before the write until the response (or failure),
so at most `window` submit_sm are ever unanswered. The throughput cap is a
`RateLimiter` awaited right before each write. What one connection does (connect, bind,
enquire_link) is `gateway.smpp.binding`; what the SMSC delivers goes through
`gateway.smpp.inbound.Deliveries`, answered only after `on_deliver` returns, so the
caller can commit first; if it raises, the SMSC gets ESME_RX_T_APPN and delivers again.

How long a submit's answer is awaited, and when a connection that keeps one waiting
is replaced, is `gateway.smpp.response` (late answers settle; silence retires the
connection; only a connection closed unanswered means `OutcomeUnknown`). A `rebind`
status (ESME_RINVBNDSTS) retires the connection too and the same PDU goes on the next
bind, failing nothing; after `REBIND_LIMIT` such answers in a row it is reported transient.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable
from typing import Any

import structlog

from gateway.backoff import Backoff
from gateway.smpp.binding import ROLES, bind, serve, unbind
from gateway.smpp.errors import (
    BindError,
    ConnectError,
    Expired,
    NotBound,
    OutcomeUnknown,
    StatusError,
    Throttled,
)
from gateway.smpp.framing import Sequence
from gateway.smpp.inbound import DeliverHandler, Deliveries, InboundDecoder, Mo
from gateway.smpp.link import Link
from gateway.smpp.model import (
    SessionConfig,
    SessionStats,
    Submit,
    check_writable,
    submit_fields,
)
from gateway.smpp.pdu import (
    CREDENTIAL_STATUSES,
    StatusClass,
    StatusTable,
    status_name,
    text_field,
)
from gateway.smpp.ratelimit import RateLimiter, limiter_for
from gateway.smpp.reassembly import Reassembler
from gateway.smpp.response import ResponseWaiter, status_of, usable
from gateway.smpp.throttle import ThrottlePause

__all__ = ["Mo", "Session", "SessionConfig", "SessionStats", "Submit"]

log = structlog.get_logger("gateway.smpp.session")

# Rebind answers to one submit, on successive binds, before it is reported transient.
REBIND_LIMIT = 3
# Throttle answers in a row to one submit before it gives its window slot back
# (`Throttled`): a number the carrier throttles on every try must not hold a slot, and the
# MO replies behind it, for its whole TTL.
THROTTLE_LIMIT = 10


class Session:
    """An SMPP bind that repairs itself. Reusable after exit, not reentrant."""

    def __init__(
        self,
        config: SessionConfig,
        on_deliver: DeliverHandler,
        *,
        limiter: RateLimiter | None = None,
        throttle: ThrottlePause | None = None,
    ) -> None:
        """`limiter` and `throttle`: the account's, when it has several sessions (its
        TPS cap and throttle pause count over all of them); otherwise the session's own."""
        if config.bind not in ROLES:
            raise ValueError(f"unknown bind mode {config.bind!r}")
        if config.window < 1:
            raise ValueError("window must be at least 1")
        self.config = config
        self.stats = SessionStats()
        self.last_bind_error: BindError | None = None
        self._limiter = limiter if limiter is not None else limiter_for(config.tps)
        self._statuses = StatusTable(config.status_classes)
        self._roles = ROLES[config.bind]
        self._tx_role = self._roles[0][0]
        self._window = asyncio.Semaphore(config.window)
        self._deliveries = Deliveries(
            InboundDecoder(Reassembler(timeout=config.mo_reassembly_timeout)),
            on_deliver,
            self.stats,
        )
        self._links: dict[str, Link] = {}
        # One numbering across every link: a stale answer from a closed connection can
        # never carry the number of a request on the next one.
        self._sequence = Sequence()
        self._changed = asyncio.Condition()
        self._closing = False
        self._throttle = throttle if throttle is not None else ThrottlePause()
        # When the session last stopped being bound (monotonic; None while bound).
        self.unbound_since: float | None = time.monotonic()
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._entered = False
        self._responses = ResponseWaiter(config, self.stats, self._spawn)

    # -- lifecycle -------------------------------------------------------------------

    async def __aenter__(self) -> Session:
        if self._entered:
            raise RuntimeError("Session is reusable, but not reentrant")
        self._entered = True
        self._closing = False
        self.unbound_since = time.monotonic()
        for role, command in self._roles:
            self._spawn(self._maintain(role, command), name=f"smpp[{role}].supervisor")
        self._spawn(self._deliveries.expire_parts(), name="smpp.mo_reassembly")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop submitting, wait (bounded) for outstanding responses, unbind, disconnect."""
        if not self._entered:
            return
        async with self._changed:
            self._closing = True
            self._changed.notify_all()
        try:
            async with asyncio.timeout(self.config.shutdown_timeout):
                await self._idle.wait()
        except TimeoutError:
            log.warning("smpp_shutdown_unanswered", outstanding=self._in_flight)
        for link in list(self._links.values()):
            await self._unbind(link)
        # Until none is left: a task may spawn another (a bind completing as it is
        # cancelled starts a reader), and one snapshot would leave that one running.
        while self._tasks:
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for link in list(self._links.values()):
            link.close()
        self._links.clear()
        self._entered = False

    async def _unbind(self, link: Link) -> None:
        await unbind(link, min(5.0, self.config.response_timeout))

    def _spawn(self, coro: Awaitable[Any], *, name: str) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- state -----------------------------------------------------------------------

    @property
    def bound(self) -> bool:
        """True while every link of the bind mode is bound."""
        return all(
            (link := self._links.get(role)) is not None and link.is_open for role, _ in self._roles
        )

    @property
    def window_in_use(self) -> int:
        return self._in_flight

    async def wait_bound(self, timeout: float | None = None) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: self.bound or self._closing)
        if not self.bound:
            raise ConnectError("session is closing")

    async def _set_link(self, role: str, link: Link | None) -> None:
        async with self._changed:
            if link is None:
                self._links.pop(role, None)
            else:
                self._links[role] = link
            if self.bound:
                self.unbound_since = None
            elif self.unbound_since is None:
                self.unbound_since = time.monotonic()
            self._changed.notify_all()

    # -- bind and keep bound -----------------------------------------------------------

    async def _maintain(self, role: str, command: str) -> None:
        failures = 0
        while not self._closing:
            try:
                link = await self._bind(role, command)
            except BindError as exc:
                failures += 1
                self.stats.bind_failures += 1
                self.last_bind_error = exc
                if exc.status in CREDENTIAL_STATUSES:
                    delay = self.config.auth_backoff
                    log.error(
                        "smpp_bind_refused_credentials",
                        link=role,
                        status=exc.name,
                        system_id=self.config.system_id,
                        retry_in_s=delay,
                    )
                else:
                    delay = self._backoff(failures)
                    log.error("smpp_bind_refused", link=role, status=exc.name, retry_in_s=delay)
            except (ConnectError, OutcomeUnknown) as exc:
                failures += 1
                delay = self._backoff(failures)
                log.warning("smpp_connect_failed", link=role, error=str(exc), retry_in_s=delay)
            else:
                if self._closing:
                    # Bound as the session began closing: never served, or close() (past
                    # its sweep of the links) would wait on it for ever.
                    await self._unbind(link)
                    return
                self.last_bind_error = None
                self.stats.binds += 1
                log.info("smpp_bound", link=role, mode=command)
                bound_at = time.monotonic()
                await self._set_link(role, link)
                try:
                    await self._serve(link)
                finally:
                    await self._set_link(role, None)
                if self._closing:
                    return
                self.stats.reconnects += 1
                lasted = time.monotonic() - bound_at
                # Only a bind that stayed up resets the back-off: one the SMSC drops at
                # once is a failure like a refused one, or it would be retried every
                # reconnect_min for ever.
                if lasted >= self.config.bind_stable_after:
                    failures = 0
                failures += 1
                delay = self._backoff(failures)
                log.warning(
                    "smpp_link_lost",
                    link=role,
                    lasted_s=round(lasted, 3),
                    retry_in_s=round(delay, 3),
                )
            await self._pause(delay)

    def _backoff(self, failures: int) -> float:
        cfg = self.config
        return Backoff(cfg.reconnect_min, cfg.reconnect_max).delay(failures - 1)

    async def _pause(self, delay: float) -> None:
        """Sleep `delay` seconds, or less if the session starts closing."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay), self._changed:
                await self._changed.wait_for(lambda: self._closing)

    async def _bind(self, role: str, command: str) -> Link:
        return await bind(
            self.config,
            role,
            command,
            on_request=self._deliveries.on_request,
            on_malformed=self._deliveries.count_malformed,
            sequence=self._sequence,
            spawn=self._spawn,
        )

    async def _serve(self, link: Link) -> None:
        await serve(link, self.config.enquire_link_interval, self._spawn)

    # -- submit ----------------------------------------------------------------------

    async def submit(self, sm: Submit, *, bind_wait: float | None = None) -> str:
        """Send one submit_sm and return the SMSC's message id.

        Waits for a bind if there is none. Throttling answers are absorbed here: the
        session pauses (with the other sessions sharing its `ThrottlePause`: an
        account's) and the same PDU goes again, never counted as a failure; so are
        rebind answers (the link is replaced and the PDU goes on the next bind).
        Raises `StatusError` (with `status_class` transient or permanent),
        `OutcomeUnknown` (sent, and its connection closed unanswered), `ConnectError`
        (not sent: closing), `Expired` (not sent: `expires_at` passed while it waited) or
        `Withheld` (not sent: `may_write` said no right before the write) or `Throttled`
        (throttled THROTTLE_LIMIT times in a row: its slot given back) or `NotBound`
        (not sent: no bind within `bind_wait` seconds, when given: another link may take it).
        """
        rebinds = throttles = 0
        async with self._window:
            while True:
                link = await self._transmitter(sm, bind_wait)
                await self._throttle.wait()
                await self._limiter.wait()
                if not usable(link) or self._throttle.active:
                    continue
                check_writable(sm)
                fields = submit_fields(sm, validity=self.config.validity_period)
                self._begin()
                try:
                    resp = await self._responses.exchange(link, "submit_sm", fields)
                except ConnectError:
                    continue  # never written: wait for the next bind and send it then
                except OutcomeUnknown:
                    self.stats.outcome_unknown += 1
                    raise
                finally:
                    self._end()
                status = status_of(resp)
                cls = self._statuses.classify(status)
                if cls is StatusClass.OK:
                    self.stats.submits_ok += 1
                    return text_field(resp.message_id)
                if cls is StatusClass.THROTTLE:
                    self.stats.throttled += 1
                    self._throttle.hold(self.config.throttle_pause)
                    log.info("smpp_throttled", pause_s=self.config.throttle_pause)
                    throttles += 1
                    if throttles < THROTTLE_LIMIT:
                        continue
                    raise Throttled(f"submit_sm throttled {throttles} times in a row")
                if cls is StatusClass.REBIND:
                    rebinds += 1
                    self._responses.retire(link, f"submit_sm answered {status_name(status)}")
                    if rebinds < REBIND_LIMIT:
                        continue
                    cls = StatusClass.TRANSIENT
                self.stats.submits_failed += 1
                raise StatusError(
                    status, sequence=resp.sequence, command="submit_sm", status_class=cls
                )

    async def _transmitter(self, sm: Submit, bind_wait: float | None = None) -> Link:
        """The link to write `sm` on, once there is one; no longer than its TTL, nor than
        `bind_wait` when given."""
        left = None if sm.expires_at is None else max(0.0, sm.expires_at - sm.clock())
        limited = bind_wait is not None and (left is None or bind_wait < left)
        async with self._changed:
            try:
                async with asyncio.timeout(bind_wait if limited else left):
                    await self._changed.wait_for(lambda: self._closing or self._tx_open())
            except TimeoutError:
                if limited:
                    raise NotBound(f"no bind within {bind_wait:g} s") from None
                raise Expired("the message's TTL passed while no bind was up") from None
            if self._closing:
                raise ConnectError("session is closing")
            return self._links[self._tx_role]

    def _tx_open(self) -> bool:
        link = self._links.get(self._tx_role)
        return link is not None and usable(link)

    def _begin(self) -> None:
        self._in_flight += 1
        self._idle.clear()

    def _end(self) -> None:
        self._in_flight -= 1
        if self._in_flight == 0:
            self._idle.set()
