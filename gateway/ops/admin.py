"""The local admin endpoint: `/healthz` for supervisors and `/metrics` for Prometheus.

`/healthz` answers 200 only while the gateway can do its job (every route and shortcode
has a bound SMSC link, the broker connected and refusing nothing; `degraded` in the body
while a link is down and others carry its messages) and 503 otherwise, with the facts in
JSON either way: an operator's first `curl` should say what is wrong. `/metrics` is the
Prometheus text format from prometheus-client, on a registry of our own (nothing
global). Served on aiohttp through gateway.web (read timeout, JSON errors); GET and HEAD
only.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from gateway.domain.states import MessageState
from gateway.ops.daemons import Registry, alive_gauge, described
from gateway.ops.links import Lone, Smpp, SmscLink, per_link
from gateway.outbound.routing import Router
from gateway.smpp.session import SessionStats
from gateway.web import ListenRefused, LocalServer, json_response

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


class Broker(Protocol):
    @property
    def connected(self) -> bool: ...
    @property
    def refused_publishes(self) -> int: ...
    @property
    def refused_subscriptions(self) -> tuple[str, ...]: ...
    @property
    def publish_refusals(self) -> int: ...
    @property
    def subscription_refusals(self) -> int: ...


class Queue(Protocol):
    async def queue(self) -> tuple[int, float | None]: ...
    async def counts(self) -> dict[str, int]: ...


@dataclass(frozen=True, slots=True)
class Snapshot:
    smsc_bound: bool
    broker_connected: bool
    # Waiting to be sent (state `queued`), and sent, waiting for the delivery receipt
    # (`submitted`): the two halves of what is not yet final.
    queued: int
    # The oldest message not yet final, in either of those states.
    oldest_queued_age: float | None
    window_in_use: int
    messages: dict[str, int]
    # What the broker refuses while connected (ACL, quota): publishes waiting to be tried
    # again, and subscriptions not granted. Either makes the gateway unhealthy.
    refused_publishes: int = 0
    refused_subscriptions: tuple[str, ...] = ()
    awaiting_receipt: int = 0
    # Each SMSC link by id: its state, its sessions (bound, window, last bind refusal).
    links: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Routes and shortcodes no bound link serves (`Router.unserved`): any makes it 503.
    unserved: tuple[str, ...] = ()
    # Every daemon of the store (gateway/ops/daemons.py): name, host, pid, seen, alive.
    daemons: tuple[dict[str, Any], ...] = ()

    @property
    def links_down(self) -> tuple[str, ...]:
        """Links with no session bound: their messages go by the next matching link."""
        return tuple(i for i, link in self.links.items() if link.get("status") != "bound")

    @property
    def not_final(self) -> int:
        """`motcua_queue_depth`: queued or awaiting a receipt."""
        return self.queued + self.awaiting_receipt

    @property
    def broker_degraded(self) -> bool:
        return bool(self.refused_publishes or self.refused_subscriptions)

    @property
    def healthy(self) -> bool:
        return (
            self.smsc_bound
            and self.broker_connected
            and not self.broker_degraded
            and not self.links_down
        )

    @property
    def serving(self) -> bool:
        """Doing its job (HTTP 200): healthy, or only links down whose messages every
        route still has a bound link for (`degraded` in the body)."""
        return (
            self.smsc_bound
            and self.broker_connected
            and not self.broker_degraded
            and not self.unserved
        )

    def as_dict(self) -> dict[str, Any]:
        if not self.broker_connected:
            broker = "down"
        else:
            broker = "degraded" if self.broker_degraded else "connected"
        if self.healthy:
            status = "ok"
        elif self.smsc_bound and self.broker_connected:
            # Up, but the broker refuses some of what we must do, or a link is down (its
            # messages go by another one).
            status = "degraded"
        else:
            status = "unavailable"
        return {
            "status": status,
            "smsc": "bound" if self.smsc_bound else "down",
            "broker": broker,
            "refused_publishes": self.refused_publishes,
            "refused_subscriptions": list(self.refused_subscriptions),
            "queued": self.queued,
            "awaiting_receipt": self.awaiting_receipt,
            "oldest_queued_age_seconds": (
                None if self.oldest_queued_age is None else round(self.oldest_queued_age, 1)
            ),
            "window_in_use": self.window_in_use,
            "links": self.links,
            "unserved": list(self.unserved),
            "daemons": list(self.daemons),
        }

    def summary(self) -> str:
        """One line for systemd's STATUS=."""
        smsc = "bound" if self.smsc_bound else "SMSC DOWN"
        if not self.broker_connected:
            broker = "BROKER DOWN"
        else:
            broker = "BROKER REFUSING" if self.broker_degraded else "broker ok"
        return (
            f"{smsc}, {broker}, {self.queued} queued, {self.awaiting_receipt} awaiting "
            f"receipt, window {self.window_in_use}"
        )


class Observed:
    """Everything the endpoint reports, read from the running parts."""

    def __init__(
        self,
        smpp: Smpp | Sequence[SmscLink],
        broker: Broker,
        store: Queue,
        *,
        receipts: Counter[str],
        mo: Counter[tuple[str, str]],
        repeated_ids: Counter[tuple[str, str]] | None = None,
        clock: Callable[[], float] = time.time,
        router: Router | None = None,
        daemons: Registry | None = None,
    ) -> None:
        """`router`: what each link takes, so that a link down whose messages others
        carry is `degraded` with 200; without it every link down counts as unserved."""
        # The SMSC links (a lone session: the link `default`).
        self.links: tuple[SmscLink, ...] = (
            tuple(smpp) if isinstance(smpp, Sequence) else (Lone(smpp),)
        )
        self.broker = broker
        self.store = store
        self.receipts = receipts
        self.mo = mo
        self.repeated_ids = repeated_ids if repeated_ids is not None else Counter()
        self._clock = clock
        self._router = router
        self._daemons = daemons

    async def snapshot(self) -> Snapshot:
        _, oldest = await self.store.queue()
        messages = await self.store.counts()
        links = {link.id: link.describe() for link in self.links}
        if self._router is not None:
            unserved = self._router.unserved()
        else:
            unserved = tuple(i for i, link in links.items() if link.get("status") != "bound")
        return Snapshot(
            smsc_bound=any(link.bound for link in self.links),
            broker_connected=self.broker.connected,
            queued=messages.get(MessageState.QUEUED, 0),
            awaiting_receipt=messages.get(MessageState.SUBMITTED, 0),
            oldest_queued_age=None if oldest is None else max(0.0, self._clock() - oldest),
            window_in_use=sum(link.window_in_use for link in self.links),
            messages=messages,
            refused_publishes=self.broker.refused_publishes,
            refused_subscriptions=self.broker.refused_subscriptions,
            links=links,
            unserved=unserved,
            daemons=() if self._daemons is None else await described(self._daemons),
        )

    @property
    def stats(self) -> SessionStats:
        """Every link's session counters added up."""
        return SessionStats.total(link.stats for link in self.links)


class _Collector(Collector):
    def __init__(self, observed: Observed) -> None:
        self._observed = observed
        self.snapshot: Snapshot | None = None

    def collect(self) -> Iterator[Any]:
        o, snap, stats = self._observed, self.snapshot, self._observed.stats
        yield from per_link(o.links)
        submits = CounterMetricFamily(
            "motcua_submits", "submit_sm answered by the SMSC, by result", labels=["result"]
        )
        submits.add_metric(["ok"], stats.submits_ok)
        submits.add_metric(["error"], stats.submits_failed)
        yield submits
        receipts = CounterMetricFamily(
            "motcua_receipts", "delivery receipts stored, by state", labels=["state"]
        )
        for state, n in sorted(o.receipts.items()):
            receipts.add_metric([state], n)
        yield receipts
        mo = CounterMetricFamily(
            "motcua_mo", "MOs received, by keyword and outcome", labels=["keyword", "outcome"]
        )
        for (keyword, outcome), n in sorted(o.mo.items()):
            mo.add_metric([keyword, outcome], n)
        yield mo
        repeated = CounterMetricFamily(
            "motcua_repeated_ids",
            "event ids and job ids received again (nothing sent), by kind and by whether "
            "the content matched the first",
            labels=["kind", "content"],
        )
        for (kind, content), n in sorted(o.repeated_ids.items()):
            repeated.add_metric([kind, content], n)
        yield repeated
        for name, doc, value in (
            ("motcua_throttled", "ESME_RTHROTTLED answers (paused, resent)", stats.throttled),
            ("motcua_smpp_reconnects", "SMPP reconnections", stats.reconnects),
            (
                "motcua_ambiguous_resubmits",
                "submits whose connection closed unanswered (sent again)",
                stats.outcome_unknown,
            ),
            (
                "motcua_smpp_responses_overdue",
                "submits unanswered at response_timeout (still awaited)",
                stats.responses_overdue,
            ),
            (
                "motcua_smpp_late_responses",
                "submit_sm_resp after response_timeout, settled all the same",
                stats.late_responses,
            ),
            (
                "motcua_smpp_relinks",
                "connections retired for an unanswered submit or a rebind answer",
                stats.relinks,
            ),
            ("motcua_malformed_pdus", "undecodable PDUs from the SMSC", stats.malformed_pdus),
        ):
            yield CounterMetricFamily(name, doc, value=value)
        refusals = CounterMetricFamily(
            "motcua_mqtt_refusals",
            "publishes and subscriptions the broker refused (reason code, ACL)",
            labels=["kind"],
        )
        refusals.add_metric(["publish"], o.broker.publish_refusals)
        refusals.add_metric(["subscribe"], o.broker.subscription_refusals)
        yield refusals
        if snap is None:
            return
        refused = GaugeMetricFamily(
            "motcua_mqtt_refused",
            "publishes waiting to be retried and subscriptions not granted, now",
            labels=["kind"],
        )
        refused.add_metric(["publish"], snap.refused_publishes)
        refused.add_metric(["subscribe"], len(snap.refused_subscriptions))
        yield refused
        yield GaugeMetricFamily(
            "motcua_queue_depth",
            "messages not yet final: queued, or submitted and awaiting a receipt",
            value=snap.not_final,
        )
        yield GaugeMetricFamily(
            "motcua_oldest_queued_seconds",
            "age of the oldest message not yet final",
            value=snap.oldest_queued_age or 0.0,
        )
        yield GaugeMetricFamily(
            "motcua_window_in_use", "submit_sm awaiting a response", value=snap.window_in_use
        )
        yield GaugeMetricFamily("motcua_smpp_bound", "1 while bound", value=int(snap.smsc_bound))
        yield GaugeMetricFamily(
            "motcua_mqtt_connected", "1 while connected", value=int(snap.broker_connected)
        )
        messages = GaugeMetricFamily(
            "motcua_messages", "messages in the store, by state", labels=["state"]
        )
        for state, n in sorted(snap.messages.items()):
            messages.add_metric([state], n)
        yield messages
        yield from alive_gauge(snap.daemons)


class AdminUnavailable(ListenRefused):
    """The admin address cannot be listened on (another service holds the port)."""

    def __init__(self, host: str, port: int, why: str) -> None:
        super().__init__("admin endpoint", "admin.port", host, port, why)


class Admin:
    """`async with Admin(observed, host, port):` serves until the block ends.

    The port is bound on entry, so the daemon can take it first, before it holds a bind
    or a broker session: `observed` may come later (`observe`); until then /healthz
    answers 503 `starting`. A port that cannot be bound is AdminUnavailable."""

    def __init__(self, observed: Observed | None, host: str, port: int) -> None:
        self._observed = observed
        self._collector = _Collector(observed) if observed is not None else None
        self._registry = CollectorRegistry(auto_describe=False)
        if self._collector is not None:
            self._registry.register(self._collector)
        self._host, self._port = host, port
        self._http = LocalServer(
            [web.get("/healthz", self._healthz), web.get("/metrics", self._metrics)],
            host,
            port,
            not_found="unknown path; try /healthz or /metrics",
        )

    def observe(self, observed: Observed) -> None:
        """What the endpoint reports, once the parts it reads from exist."""
        if self._collector is not None:
            self._registry.unregister(self._collector)
        self._observed = observed
        self._collector = _Collector(observed)
        self._registry.register(self._collector)

    @property
    def port(self) -> int:
        return self._http.port

    async def __aenter__(self) -> Admin:
        try:
            await self._http.__aenter__()
        except OSError as exc:
            # asyncio's strerror repeats the address: the errno's own words are enough.
            why = os.strerror(exc.errno).lower() if exc.errno else str(exc)
            raise AdminUnavailable(self._host, self._port, why) from None
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.__aexit__(*exc)

    async def _healthz(self, _request: web.Request) -> web.Response:
        if self._observed is None:
            return _starting()
        snap = await self._observed.snapshot()
        return json_response(200 if snap.serving else 503, snap.as_dict())

    async def _metrics(self, _request: web.Request) -> web.Response:
        if self._observed is None or self._collector is None:
            return _starting()
        self._collector.snapshot = await self._observed.snapshot()
        # Set as a header: aiohttp's content_type= refuses parameters such as version=.
        return web.Response(
            body=generate_latest(self._registry), headers={"Content-Type": PROMETHEUS_TEXT}
        )


def _starting() -> web.Response:
    """Before the parts exist: not healthy, and saying why rather than failing."""
    return json_response(503, {"status": "starting"})
