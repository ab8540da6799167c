"""The SMSC links as /healthz and /metrics see them: each link, each of its sessions.

A link is a `gateway.smpp.account.Account` (or, for a caller holding one session, that
session as the link `default`: `Lone`). The metrics families here carry a `link` label;
the unlabelled ones in `gateway.ops.admin` are their sums, unchanged from the days of one
link, so existing dashboards keep working.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from gateway.smpp.model import SessionStats


class Smpp(Protocol):
    @property
    def bound(self) -> bool: ...
    @property
    def window_in_use(self) -> int: ...
    @property
    def stats(self) -> SessionStats: ...


class SmscLink(Smpp, Protocol):
    """One SMSC link with its sessions (`gateway.smpp.account.Account`)."""

    @property
    def id(self) -> str: ...
    def describe(self) -> dict[str, Any]: ...


class Lone:
    """A lone session as the link `default`: what /healthz lists for it."""

    def __init__(self, smpp: Smpp) -> None:
        self._smpp = smpp
        self.id = "default"

    @property
    def bound(self) -> bool:
        return self._smpp.bound

    @property
    def window_in_use(self) -> int:
        return self._smpp.window_in_use

    @property
    def stats(self) -> SessionStats:
        return self._smpp.stats

    def describe(self) -> dict[str, Any]:
        return {"status": "bound" if self.bound else "down", "window_in_use": self.window_in_use}


def per_link(links: Sequence[SmscLink]) -> Iterator[Any]:
    """The SMSC families again, one series per link (`link` label); the families above
    without it are their sums, as before there were several links."""
    submits = CounterMetricFamily(
        "motcua_link_submits", "submit_sm answered, by link and result", labels=["link", "result"]
    )
    bound = GaugeMetricFamily("motcua_link_bound", "1 while some session is bound", labels=["link"])
    sessions = GaugeMetricFamily("motcua_link_sessions_bound", "sessions bound", labels=["link"])
    window = GaugeMetricFamily(
        "motcua_link_window_in_use", "submit_sm awaiting a response", labels=["link"]
    )
    reconnects = CounterMetricFamily(
        "motcua_link_reconnects", "SMPP reconnections, by link", labels=["link"]
    )
    for link in links:
        stats = link.stats if link.stats is not None else SessionStats()
        submits.add_metric([link.id, "ok"], stats.submits_ok)
        submits.add_metric([link.id, "error"], stats.submits_failed)
        bound.add_metric([link.id], int(link.bound))
        listed = link.describe().get("sessions")
        up = sum(1 for s in listed if s["bound"]) if listed is not None else int(link.bound)
        sessions.add_metric([link.id], up)
        window.add_metric([link.id], link.window_in_use)
        reconnects.add_metric([link.id], stats.reconnects)
    yield from (submits, bound, sessions, window, reconnects)
