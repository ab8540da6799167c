"""Every daemon of the store, for `/healthz` and `/metrics`: each daemon of one store (one
PostgreSQL, several daemons) shows them all, so an operator's first `curl` on any machine
says which daemon is down, since when, and where it ran."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from prometheus_client.core import GaugeMetricFamily

from gateway.store.claims import Claimant
from gateway.store.daemons import DaemonRow


class Registry(Protocol):
    claimant: Claimant

    async def listed(self) -> list[DaemonRow]: ...

    def now(self) -> float: ...


async def described(registry: Registry) -> tuple[dict[str, Any], ...]:
    """Each daemon: name, host, pid, seconds since it was last seen, whether it is alive
    (seen within the lease, on the clock the store judges them by) and whether it is the
    one answering."""
    me = registry.claimant
    now = registry.now()
    return tuple(
        {
            "name": d.name,
            "host": d.host,
            "pid": d.pid,
            "seen_seconds_ago": round(max(0.0, now - d.seen_at), 1),
            "alive": now - d.seen_at <= me.lease,
            "this": d.name == me.name,
        }
        for d in await registry.listed()
    )


def alive_gauge(daemons: Sequence[dict[str, Any]]) -> Iterator[GaugeMetricFamily]:
    """`motcua_daemon_alive{daemon}`: 1 for each daemon of the store seen within the lease."""
    gauge = GaugeMetricFamily(
        "motcua_daemon_alive",
        "1 for each daemon of the store seen within its lease, 0 for one not seen since",
        labels=["daemon"],
    )
    for d in daemons:
        gauge.add_metric([d["name"]], int(d["alive"]))
    yield gauge
