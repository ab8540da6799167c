"""Routing between the sender and the SMSC links: which link a message goes by.

A message goes by the first link (in the configuration's order) one of whose routes
matches it: the carrier of the number's original range (`gateway.phone.carrier`: a
preference, numbers are portable), a number prefix, the agency, or the default. When that
link is not bound within its `failover_after`, refuses binds, or answers a status its
`reroute` lists ("try elsewhere"), the next matching link takes it. Any other answer is
the message's own (a permanent refusal of the number is never rerouted: another carrier
would refuse it too, or worse, deliver it twice).

A message is pinned to one link when it must go there: an MO reply goes back on the link
the MO came in on (its shortcode is that carrier's), and a message some of whose parts
are out goes on with the rest where they went (a phone joins parts of one SMSC's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import structlog

from gateway.domain.message import Priority, Queued
from gateway.phone.carrier import carrier_of
from gateway.settings.links import DEFAULT_LINK, EVERYTHING, Route
from gateway.smpp.account import Account
from gateway.smpp.errors import NotBound, StatusError
from gateway.smpp.model import Submit
from gateway.smpp.session import Session

log = structlog.get_logger("gateway.outbound.routing")


@dataclass(frozen=True, slots=True)
class Leg:
    """One link as routing sees it: where it sends, what it takes, when to go elsewhere."""

    account: Account
    routes: tuple[Route, ...] = EVERYTHING
    reroute: frozenset[int] = frozenset()
    failover_after: float = 5.0
    # The brandname notices go from on this link (each carrier registers it on its own
    # account); None: the one the message was composed with. MO replies keep theirs,
    # the shortcode the citizen wrote to.
    source_addr: str | None = None

    @property
    def id(self) -> str:
        return self.account.id

    def takes(self, m: Queued, carrier: str | None) -> bool:
        return any(r.matches(m.phone, m.agency, carrier) for r in self.routes)

    def part(self, m: Queued, sm: Submit) -> Submit:
        """`sm` as this link sends it: a notice from the link's own brandname."""
        if self.source_addr is None or m.priority <= Priority.MO_REPLY:
            return sm
        return replace(sm, source=self.source_addr)


@dataclass(frozen=True, slots=True)
class Sent:
    """A part accepted: the link it went by and the SMSC's id for it."""

    link: str
    smsc_id: str


class Router:
    """The links in routing order, and the failover between them."""

    def __init__(self, legs: Sequence[Leg]) -> None:
        if not legs:
            raise ValueError("at least one link is needed")
        self.legs = tuple(legs)
        self._by_id = {leg.id: leg for leg in self.legs}
        # Only routes naming a carrier need a number's carrier: without them no message
        # pays for the lookup, and the carrier data is never loaded.
        self._by_carrier = any(r.carrier is not None for leg in self.legs for r in leg.routes)

    @classmethod
    def single(cls, session: Session, link_id: str = DEFAULT_LINK) -> Router:
        """One session as the only link, taking everything (the `smpp:` section's case)."""
        return cls([Leg(Account.of(link_id, [session]))])

    @property
    def window(self) -> int:
        """Submits that may be unanswered at once over every link's sessions."""
        return sum(leg.account.window for leg in self.legs)

    def legs_for(self, m: Queued, pinned: str | None = None) -> list[Leg]:
        """The links `m` may go by, in order. A pinned link no longer configured is
        routed like any message (its parts' receipts still match under its id)."""
        if pinned is not None and pinned in self._by_id:
            return [self._by_id[pinned]]
        carrier = carrier_of(m.phone) if self._by_carrier else None
        return [leg for leg in self.legs if leg.takes(m, carrier)]

    async def submit(self, m: Queued, sm: Submit, pinned: str | None = None) -> Sent:
        """Submit one part by the first link of `legs_for` that takes it.

        With one link the session waits for its bind as before (up to the TTL); with
        several each waits `failover_after` at most, and `NotBound` means none was bound
        (nothing written: the sender puts the message back for a moment). `StatusError`
        and the session's other errors are the message's own, and go to the sender.
        """
        legs = self.legs_for(m, pinned)
        if not legs:
            raise NotBound("no link's routes take this message")
        if len(legs) == 1:
            leg = legs[0]
            return Sent(leg.id, await leg.account.submit(leg.part(m, sm)))
        refused: StatusError | None = None
        for leg in legs:
            if leg.account.refusing:
                log.info("route_skipped", link=leg.id, message=m.id, why="refusing binds")
                continue
            try:
                part = leg.part(m, sm)
                return Sent(leg.id, await leg.account.submit(part, bind_wait=leg.failover_after))
            except NotBound:
                log.info("route_skipped", link=leg.id, message=m.id, why="not bound")
            except StatusError as exc:
                if exc.status not in leg.reroute:
                    raise
                refused = exc
                log.info("route_skipped", link=leg.id, message=m.id, why=exc.name)
        if refused is not None:
            raise refused  # every link that was up said "try elsewhere": its class decides
        raise NotBound("no matching link took the message")
