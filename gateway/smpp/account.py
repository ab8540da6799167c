"""One SMSC link: an SMPP account with `binds` sessions and one TPS cap across them.

    async with Account("viettel", config, binds=2, account_tps=100, on_deliver=...) as a:
        message_id = await a.submit(Submit(...), bind_wait=5.0)

Each session keeps its own bind, window and `tps` share (`Session`); the account adds
what the carrier counts per account: one `Pacer` that every session's submits also wait
for (`Chained`), so the account's sliding second never holds more than `account_tps`,
and one `ThrottlePause`, so a throttle answer on one session pauses them all.
A submit goes to the bound session with the fewest submits handed to it and unanswered
(waiting for its window included). What any session delivers is handed on with the
account's id: a receipt for a submit made on one session often comes on another
(carriers round-robin receipts over an account's sessions), and message ids are unique
only within one SMSC, so a receipt is matched by (link, id): `receipt_keys`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from gateway.smpp.errors import BindError, ConnectError, NotBound
from gateway.smpp.inbound import Inbound, Mo
from gateway.smpp.model import SessionConfig, SessionStats, Submit
from gateway.smpp.ratelimit import ACCOUNT_WINDOW, Chained, RateLimiter, limiter_for
from gateway.smpp.receipt import message_id_keys
from gateway.smpp.session import Session
from gateway.smpp.throttle import ThrottlePause

__all__ = ["Account", "LinkDeliver", "receipt_keys"]

# What an account hands on: the item and the id of the link it came in on.
LinkDeliver = Callable[[Inbound, str], Awaitable[None]]

# How often a submit waiting for any session's bind looks again, seconds.
_BIND_POLL = 0.05


def receipt_keys(link: str, message_id: str) -> frozenset[str]:
    """The keys a part sent on `link` with `message_id` is matched by: the id's keys
    (`message_id_keys`: hex/decimal readings, the exact string first) scoped to the link,
    so the same id from two SMSCs never settles the other's message."""
    return frozenset(f"{key}@{link}" for key in message_id_keys(message_id))


class Account:
    """The sessions of one link. Reusable after exit, not reentrant."""

    def __init__(
        self,
        link_id: str,
        config: SessionConfig,
        on_deliver: LinkDeliver | None = None,
        *,
        binds: int = 1,
        account_tps: float = 0.0,
        sessions: list[Session] | None = None,
    ) -> None:
        """`sessions`: ones the caller made, opens and closes (and whose deliveries it
        receives); otherwise `binds` sessions are made here, handing on to `on_deliver`."""
        if binds < 1:
            raise ValueError("binds must be at least 1")
        self.id = link_id
        self.config = config
        self.account_limiter: RateLimiter = limiter_for(account_tps, window=ACCOUNT_WINDOW)
        # A throttle answer on any session pauses them all: the carrier counts per account.
        self.throttle = ThrottlePause()
        if sessions is not None:
            self.sessions = sessions
        elif on_deliver is None:
            raise ValueError("an account that makes its sessions needs on_deliver")
        else:
            forward = on_deliver

            async def deliver(item: Inbound) -> None:
                if isinstance(item, Mo):
                    item = dataclasses.replace(item, link=link_id)
                await forward(item, link_id)

            self.sessions = [
                Session(config, deliver, limiter=self._limiter(config), throttle=self.throttle)
                for _ in range(binds)
            ]
        self._stack: contextlib.AsyncExitStack | None = None
        self._taken: Counter[int] = Counter()

    @classmethod
    def of(cls, link_id: str, sessions: list[Session]) -> Account:
        """An account over sessions its caller opens and closes (a lone `Session`)."""
        return cls(link_id, sessions[0].config, sessions=sessions)

    def _limiter(self, config: SessionConfig) -> RateLimiter:
        return Chained(limiter_for(config.tps), self.account_limiter)

    async def __aenter__(self) -> Account:
        stack = contextlib.AsyncExitStack()
        for session in self.sessions:
            await stack.enter_async_context(session)
        self._stack = stack
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            # Sessions close at once, not one after another's shutdown_timeout.
            await asyncio.gather(*(s.close() for s in self.sessions))
            await stack.aclose()

    # -- state -----------------------------------------------------------------------

    @property
    def bound(self) -> bool:
        """Some session is bound: the link can take submits."""
        return any(s.bound for s in self.sessions)

    @property
    def refusing(self) -> bool:
        """No session is bound and the SMSC refused the last bind of each: waiting for it
        is waiting for an operator, so another link should take the messages now."""
        return not self.bound and all(
            isinstance(s.last_bind_error, BindError) for s in self.sessions
        )

    def unbound_for(self) -> float:
        """Seconds since the last of its sessions stopped being bound (0 while one is):
        how long the link has been down, whether its binds are refused, its host
        refuses connections or its connects time out."""
        since = [s.unbound_since for s in self.sessions]
        if any(t is None for t in since):
            return 0.0
        return max(0.0, time.monotonic() - max(t for t in since if t is not None))

    @property
    def window(self) -> int:
        return self.config.window * len(self.sessions)

    @property
    def window_in_use(self) -> int:
        return sum(s.window_in_use for s in self.sessions)

    @property
    def stats(self) -> SessionStats:
        """The sessions' counters added up."""
        return SessionStats.total(s.stats for s in self.sessions)

    async def wait_bound(self, timeout: float | None = None) -> None:
        """Until some session is bound (TimeoutError after `timeout`)."""
        waits = [asyncio.ensure_future(s.wait_bound()) for s in self.sessions]
        try:
            async with asyncio.timeout(timeout):
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
            await asyncio.gather(*waits, return_exceptions=True)
        if not self.bound:
            raise ConnectError(f"link {self.id} is closing")

    # -- submit ----------------------------------------------------------------------

    async def submit(self, sm: Submit, *, bind_wait: float | None = None) -> str:
        """`Session.submit` on the bound session with the least load; with
        `bind_wait`, `NotBound` when no session is bound by then (nothing written)."""
        session = await self._session(bind_wait)
        self._taken[id(session)] += 1
        try:
            return await session.submit(sm, bind_wait=bind_wait)
        finally:
            self._taken[id(session)] -= 1

    def _load(self, session: Session) -> int:
        """Submits handed to `session` and not yet answered, waiting for its window too."""
        return self._taken[id(session)]

    async def _session(self, bind_wait: float | None) -> Session:
        loop = asyncio.get_running_loop()
        deadline = None if bind_wait is None else loop.time() + bind_wait
        while True:
            bound = [s for s in self.sessions if s.bound]
            if bound:
                return min(bound, key=self._load)
            if deadline is None:
                # No limit: the least loaded session waits for its bind (up to the TTL).
                return min(self.sessions, key=self._load)
            if loop.time() >= deadline:
                raise NotBound(f"link {self.id}: no session bound within {bind_wait:g} s")
            await asyncio.sleep(min(_BIND_POLL, max(0.0, deadline - loop.time())))

    def describe(self) -> dict[str, Any]:
        """Per-session facts for /healthz."""
        return {
            "status": "bound" if self.bound else ("refused" if self.refusing else "down"),
            "sessions": [
                {
                    "bound": s.bound,
                    "window_in_use": s.window_in_use,
                    "last_bind_error": None
                    if s.last_bind_error is None
                    else s.last_bind_error.name,
                }
                for s in self.sessions
            ],
            "window_in_use": self.window_in_use,
        }
