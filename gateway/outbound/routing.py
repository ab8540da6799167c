"""Routing between the sender and the SMSC links: which link a message goes by.

A message goes by the first link (in the configuration's order) one of whose routes
matches it: the carrier of the number's original range (`gateway.phone.carrier`: a
preference, numbers are portable), a number prefix, the agency, or the default. When that
link is not bound within its `failover_after`, refuses binds, has been down a whole
`failover_after` already (new messages then skip it without waiting), or answers a status
its `reroute` lists ("try elsewhere"), the next matching link takes it; with none bound
the message goes back to the store for a moment (the only matching link too: it waits
there, not in a sender slot). Any other answer is the message's own (a permanent refusal
of the number is never rerouted: another carrier would refuse it too, or worse, deliver
it twice); its retry tries the next matching link first when the last attempt went out
on a link without an acceptance (a bound link that never answers must not take them all).

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
from gateway.smpp.errors import NotBound, OutcomeUnknown, StatusError, Throttled
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
    # The shortcodes citizens write to on this link: its MOs come in by it.
    shortcodes: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return self.account.id

    @property
    def down(self) -> str | None:
        """Why new messages skip this link without waiting for it, or None: it refuses
        binds, or no session has been bound for a whole `failover_after` (a message
        waiting for it then would wait as long again for nothing)."""
        account = self.account
        if account.bound:
            return None
        if account.refusing:
            return "refusing binds"
        if account.unbound_for() >= self.failover_after:
            return "down"
        return None

    def takes(self, m: Queued, carrier: str | None) -> bool:
        return any(r.matches(m.phone, m.agency, carrier) for r in self.routes)

    def part(self, m: Queued, sm: Submit) -> Submit:
        """`sm` as this link sends it: a notice from the link's own brandname."""
        if self.source_addr is None or m.priority <= Priority.MO_REPLY:
            return sm
        return replace(sm, source=self.source_addr)


@dataclass(slots=True)
class Trail:
    """Where one attempt's parts go: `pinned`, the link the rest must go by once a part
    is out; `wrote`, the link the last submit was written on, accepted or not (the link
    the message's row and status name, also when it failed or went unanswered)."""

    pinned: str | None = None
    wrote: str | None = None


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

    def unserved(self) -> tuple[str, ...]:
        """What no bound link serves now, for /healthz: each route (`link: route`) none
        of whose possible links (its own, or one with a route matching all it matches)
        is bound, and each shortcode (`MO 8083`) no bound link receives. Empty while a
        link down only means its messages go by another."""
        bound = [leg for leg in self.legs if leg.account.bound]
        missing = [
            f"{leg.id}: {route.describe()}"
            for leg in self.legs
            for route in leg.routes
            if not any(q.covers(route) for other in bound for q in other.routes)
        ]
        codes = dict.fromkeys(code for leg in self.legs for code in leg.shortcodes)
        missing += [f"MO {code}" for code in codes if not any(code in b.shortcodes for b in bound)]
        return tuple(missing)

    def legs_for(self, m: Queued, pinned: str | None = None) -> list[Leg]:
        """The links `m` may go by, in order.

        Pinned to one link (`pinned`, or `m.link` for an MO reply and for the rest of a
        long message some of whose parts are out) it goes by that one only; a pinned link
        no longer configured is routed like any message (its parts' receipts still match
        under its id). Otherwise `m.link` is where its last attempt was written without
        an acceptance (unanswered, refused for now, throttled): the retry prefers the
        next matching link, that one last, so a link that is bound but never answers
        does not take every attempt of the message."""
        must = m.done_parts or m.priority <= Priority.MO_REPLY
        if pinned is None and m.link is not None and must:
            pinned = m.link
        if pinned is not None and pinned in self._by_id:
            return [self._by_id[pinned]]
        carrier = carrier_of(m.phone) if self._by_carrier else None
        legs = [leg for leg in self.legs if leg.takes(m, carrier)]
        tried = next((i for i, leg in enumerate(legs) if leg.id == m.link), None)
        if tried is None:
            return legs
        return [*legs[tried + 1 :], *legs[: tried + 1]]

    async def submit(self, m: Queued, sm: Submit, trail: Trail | None = None) -> Sent:
        """Submit one part by the first link of `legs_for` that takes it.

        Each link is waited for `failover_after` at most, also when it is the only one
        (a message only a down link takes, an MO reply or the rest of a long message
        pinned to it): `NotBound` means none was bound (nothing written), and the sender
        puts the message back in the store for a moment, its slot free for the other
        links' messages. `StatusError` and the session's other errors are the message's
        own, and go to the sender.
        """
        trail = trail if trail is not None else Trail()
        legs = self.legs_for(m, trail.pinned)
        if not legs:
            raise NotBound("no link's routes take this message")
        refused: StatusError | None = None
        for leg in legs:
            if (down := leg.down) is not None:
                log.info("route_skipped", link=leg.id, message=m.id, why=down)
                continue
            try:
                part = leg.part(m, sm)
                smsc_id = await leg.account.submit(part, bind_wait=leg.failover_after)
            except NotBound:
                log.info("route_skipped", link=leg.id, message=m.id, why="not bound")
                continue
            except StatusError as exc:
                trail.wrote = leg.id
                if exc.status not in leg.reroute:
                    raise
                refused = exc
                log.info("route_skipped", link=leg.id, message=m.id, why=exc.name)
                continue
            except (OutcomeUnknown, Throttled):
                trail.wrote = leg.id
                raise
            trail.wrote = trail.pinned = leg.id
            return Sent(leg.id, smsc_id)
        if refused is not None:
            raise refused  # every link that was up said "try elsewhere": its class decides
        raise NotBound("no matching link took the message")
