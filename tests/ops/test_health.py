"""Health that costs nothing to ask, a heartbeat a slow store cannot stop, and a broker
that refuses shown as such."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from gateway.app import Gateway, _status_line
from gateway.domain.message import NewMessage
from gateway.ops.admin import PROMETHEUS_TEXT, Admin, AdminUnavailable, Observed, Snapshot
from gateway.ops.systemd import Notifier
from gateway.settings.config import default_config
from gateway.smpp.session import SessionStats
from gateway.store.schema import MIGRATIONS
from gateway.store.store import Store
from tests.support.daemon import http_get
from tests.support.store_reads import db_rows, execute


def message(ref: str, state: str = "queued", created: float = 0.0) -> NewMessage:
    return NewMessage(
        agency="SCT", ref=ref, kind="sms", source="MotcuaSMS", priority=1, state=state,
        not_before=created, expires_at=created + 60, phone="84905123456", text="x",
    )  # fmt: skip


class TestHealthQueries:
    async def test_queue_and_counts_never_scan_the_messages_table(self, tmp_path: Path):
        """Each statement `queue()` and `counts()` runs is planned on an index or on the
        small per-state counters (before: `SCAN messages`, 330 ms at 500,000 rows)."""
        async with Store.open(tmp_path / "g.db") as store:
            await store.dossiers.record_intake(messages=[message(f"m{n}") for n in range(50)])
            statements: list[str] = []
            store.database.trace(statements.append)
            await store.outbox.queue()
            await store.outbox.counts()
            store.database.trace(None)

            plans = [
                detail
                for sql in statements
                for *_ids, detail in await db_rows(store, f"EXPLAIN QUERY PLAN {sql}")
            ]
        assert statements and plans
        assert not [p for p in plans if p.startswith("SCAN messages")], plans
        assert any("USING COVERING INDEX messages_state" in p for p in plans), plans

    async def test_queue_depth_and_oldest_come_from_the_waiting_messages(self, tmp_path: Path):
        async with Store.open(tmp_path / "g.db") as store:
            await store.dossiers.record_intake(
                messages=[
                    message("a", created=100.0),
                    message("b", created=50.0),
                    message("c", state="rejected", created=10.0),
                ]
            )
            await execute(store, "UPDATE messages SET state = 'submitted', created_at = 40 "
                                 "WHERE ref = 'a'")  # fmt: skip
            depth, oldest = await store.outbox.queue()
        assert (depth, oldest) == (2, 40.0)

    async def test_counts_follow_every_insert_change_and_delete(self, tmp_path: Path):
        async with Store.open(tmp_path / "g.db") as store:
            await store.dossiers.record_intake(
                messages=[message(f"q{n}") for n in range(5)] + [message("r", state="rejected")]
            )
            await execute(
                store, "UPDATE messages SET state = 'delivered' WHERE ref IN ('q0', 'q1')"
            )
            await execute(store, "UPDATE messages SET state = 'delivered' WHERE ref = 'q0'")
            await execute(store, "DELETE FROM messages WHERE ref = 'r'")
            truth = dict(
                await db_rows(store, "SELECT state, COUNT(*) FROM messages GROUP BY state")
            )
            assert await store.outbox.counts() == truth == {"queued": 3, "delivered": 2}

    async def test_counters_start_from_the_rows_of_an_older_store(self, tmp_path: Path):
        """A store written before the counters existed is counted when it is migrated."""
        path = tmp_path / "old.db"
        db = sqlite3.connect(path)
        for script in MIGRATIONS[:6]:  # the store as schema 6 left it
            db.executescript(script)
        db.executescript(
            "INSERT INTO messages (agency, ref, kind, source, priority, state, not_before,"
            " expires_at, created_at, updated_at) VALUES"
            " ('SCT', 'a', 'sms', 'MotcuaSMS', 1, 'queued', 0, 60, 0, 0),"
            " ('SCT', 'b', 'sms', 'MotcuaSMS', 1, 'rejected', 0, 60, 0, 0);"
            "PRAGMA user_version = 6;"
        )
        db.close()
        async with Store.open(path) as store:
            assert await store.outbox.counts() == {"queued": 1, "rejected": 1}


class _Smpp:
    bound = True
    window_in_use = 0
    stats = None


class _Broker:
    connected = True
    refused_publishes = 0
    refused_subscriptions: tuple[str, ...] = ()
    publish_refusals = 0
    subscription_refusals = 0


class _HungStore:
    """A store whose queries never come back (a long write holding its only thread)."""

    async def queue(self) -> tuple[int, float | None]:
        await asyncio.Event().wait()
        raise AssertionError("not reached")

    async def counts(self) -> dict[str, int]:
        return {}


class _Counting(Notifier):
    def __init__(self) -> None:
        super().__init__(environ={})
        self.beats = 0

    @property
    def watchdog_interval(self) -> float | None:
        return 0.05

    def watchdog(self) -> None:
        self.beats += 1


async def test_heartbeat_keeps_the_watchdog_going_while_the_store_hangs():
    """Before, the heartbeat awaited the snapshot without bound: one beat, then none."""
    notifier = _Counting()
    gateway = Gateway(default_config(), notifier=notifier)
    observed = Observed(_Smpp(), _Broker(), _HungStore(), receipts=Counter(), mo=Counter())
    task = asyncio.create_task(gateway._heartbeat(observed))
    try:
        async with asyncio.timeout(5):
            while notifier.beats < 5:
                await asyncio.sleep(0.01)
    finally:
        task.cancel()


async def test_status_line_gives_up_on_a_hung_store_within_its_bound():
    observed = Observed(_Smpp(), _Broker(), _HungStore(), receipts=Counter(), mo=Counter())
    async with asyncio.timeout(5):
        assert await _status_line(observed, 0.05) is None


def test_broker_refusing_makes_health_degraded_and_503():
    snap = Snapshot(
        smsc_bound=True, broker_connected=True, queued=0, oldest_queued_age=None,
        window_in_use=0, messages={}, refused_publishes=3,
    )  # fmt: skip
    assert (snap.healthy, snap.as_dict()["status"], snap.as_dict()["broker"]) == (
        False,
        "degraded",
        "degraded",
    )
    assert "BROKER REFUSING" in snap.summary()


class TestWhatIsWaiting:
    """`queued` is what waits to be sent; what was sent and waits for its receipt is
    `awaiting_receipt` (before: /healthz said 5 queued while none was, 5 submitted)."""

    async def _snapshot(self, tmp_path: Path) -> Snapshot:
        async with Store.open(tmp_path / "g.db") as store:
            await store.dossiers.record_intake(
                messages=[message(f"m{n}") for n in range(5)] + [message("r", state="rejected")]
            )
            await execute(
                store, "UPDATE messages SET state = 'submitted' WHERE ref IN ('m0', 'm1', 'm2')"
            )
            observed = Observed(_Smpp(), _Broker(), store.outbox, receipts=Counter(), mo=Counter())
            return await observed.snapshot()

    async def test_healthz_tells_queued_from_awaiting_receipt(self, tmp_path: Path):
        health = (await self._snapshot(tmp_path)).as_dict()

        assert (health["queued"], health["awaiting_receipt"]) == (2, 3)

    async def test_status_line_tells_queued_from_awaiting_receipt(self, tmp_path: Path):
        summary = (await self._snapshot(tmp_path)).summary()

        assert "2 queued, 3 awaiting receipt" in summary

    async def test_queue_depth_metric_counts_every_message_not_yet_final(self, tmp_path: Path):
        snap = await self._snapshot(tmp_path)

        assert snap.not_final == 5


async def test_admin_bound_before_the_parts_exist_answers_503_starting():
    """The daemon takes its admin port first; until the parts it reports on exist, it
    says it is starting rather than failing the request."""
    async with Admin(None, "127.0.0.1", 0) as admin:
        status, body = await http_get(admin.port, "/healthz")

    assert (status, json.loads(body)) == (503, {"status": "starting"})


async def test_a_taken_admin_port_is_a_refusal_naming_it():
    async with Admin(None, "127.0.0.1", 0) as first:
        with pytest.raises(AdminUnavailable, match=f"127.0.0.1:{first.port} cannot be opened"):
            async with Admin(None, "127.0.0.1", first.port):
                pass


class TestAdminOverHttp:
    """What supervisors and Prometheus read, byte for byte where they depend on it."""

    @staticmethod
    def _observed(*, bound: bool = True) -> Observed:
        smpp = _Smpp()
        smpp.bound = bound
        smpp.stats = SessionStats()
        return Observed(smpp, _Broker(), _EmptyStore(), receipts=Counter(), mo=Counter())

    @staticmethod
    async def _raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request)
        async with asyncio.timeout(5):
            answer = await reader.read()
        writer.close()
        head, _, body = answer.partition(b"\r\n\r\n")
        status, *lines = head.decode().split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
        return int(status.split()[1]), headers, body

    async def test_healthz_is_200_json_while_bound_and_connected(self):
        async with Admin(self._observed(), "127.0.0.1", 0) as admin:
            status, headers, body = await self._raw(
                admin.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
            )

        assert (status, headers["content-type"]) == (200, "application/json")
        assert json.loads(body) == {
            "status": "ok", "smsc": "bound", "broker": "connected", "refused_publishes": 0,
            "refused_subscriptions": [], "queued": 0, "awaiting_receipt": 0,
            "oldest_queued_age_seconds": None, "window_in_use": 0,
            "links": {"default": {"status": "bound", "window_in_use": 0}}, "unserved": [],
            "daemons": [],
        }  # fmt: skip

    async def test_healthz_is_503_while_the_smsc_is_down(self):
        async with Admin(self._observed(bound=False), "127.0.0.1", 0) as admin:
            status, body = await http_get(admin.port, "/healthz")

        assert (status, json.loads(body)["status"]) == (503, "unavailable")

    async def test_metrics_are_prometheus_text(self):
        async with Admin(self._observed(), "127.0.0.1", 0) as admin:
            status, headers, body = await self._raw(
                admin.port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
            )

        assert (status, headers["content-type"]) == (200, PROMETHEUS_TEXT)
        assert b"\nmotcua_queue_depth 0.0\n" in body

    async def test_head_healthz_gives_the_status_without_a_body(self):
        async with Admin(self._observed(bound=False), "127.0.0.1", 0) as admin:
            status, _, body = await self._raw(
                admin.port, b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
            )

        assert (status, body) == (503, b"")

    async def test_other_methods_are_refused_with_405(self):
        async with Admin(self._observed(), "127.0.0.1", 0) as admin:
            status, _, body = await self._raw(
                admin.port, b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
            )

        assert (status, json.loads(body)) == (405, {"error": "use GET"})

    async def test_an_unknown_path_names_the_two_that_exist(self):
        async with Admin(self._observed(), "127.0.0.1", 0) as admin:
            status, body = await http_get(admin.port, "/status")

        assert (status, json.loads(body)) == (
            404,
            {"error": "unknown path; try /healthz or /metrics"},
        )


class _EmptyStore:
    async def queue(self) -> tuple[int, float | None]:
        return 0, None

    async def counts(self) -> dict[str, int]:
        return {}
