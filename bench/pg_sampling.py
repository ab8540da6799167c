"""What a PostgreSQL server did for the daemons during a run, from its own statistics.

`counters` reads, before and after, the database's committed transactions
(pg_stat_database) and the server's WAL flushes (pg_stat_wal): per message, how many
transactions and fsyncs the store's writes cost. `WaitSampler` looks at the daemons'
backends (pg_stat_activity) every `every` seconds on a thread of its own and counts what
each was doing: running (active, waiting for nothing: on a CPU or ready for one), waiting
for the write lock every write transaction takes (an advisory lock: the daemons' writes
one at a time), waiting for its commit's WAL flush, or waiting for its daemon to send the
next statement (inside a transaction, or idle between two). The shares say where the
store's time went, measured, not supposed.
"""

from __future__ import annotations

import collections
import os
import threading
import time
from typing import Any

import psycopg
from smscs import cpu_seconds, thread_cpu_seconds

# PostgreSQL 15's backends flush their statistics at most once a second, or only 10 s
# after they went idle, but surely when they end: read the "after" counters once the
# daemons have stopped, and this long after, for the WAL writer's own.
STATS_DELAY = 1.5


def counters(admin_url: str, database: str) -> dict[str, int]:
    """Committed transactions of `database` and WAL flushes of the server, so far."""
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as db:
        db.execute("SELECT pg_stat_clear_snapshot()")
        ((commits,),) = db.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = %s", (database,)
        ).fetchall()
        ((syncs, writes),) = db.execute("SELECT wal_sync, wal_write FROM pg_stat_wal").fetchall()
    return {"commits": int(commits), "wal_syncs": int(syncs), "wal_writes": int(writes)}


def _what(state: str | None, wait_type: str | None, wait: str | None) -> str:
    if state == "active":
        if wait_type is None:
            return "running"
        if wait_type == "Lock" and wait == "advisory":
            return "write lock"
        if wait in ("WALSync", "WALWrite", "WALWriteLock", "SyncRep"):
            return "WAL flush"
        if wait == "ClientRead":
            return "reading from its daemon"
        return f"{wait_type}:{wait}"
    if state == "idle in transaction":
        return "in transaction, waiting for its daemon"
    return "idle"


class WaitSampler:
    """Samples the backends of `database` (the daemons' connections) until `stop()`."""

    def __init__(self, admin_url: str, database: str, every: float = 0.05) -> None:
        self.admin_url = admin_url
        self.database = database
        self.every = every
        self.seen: collections.Counter[str] = collections.Counter()
        self.samples = 0
        self._tid = 0
        self._backend = 0
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg-wait-sampler", daemon=True)

    def start(self) -> WaitSampler:
        """Start sampling, once connected (bounded)."""
        self._thread.start()
        if not self._ready.wait(15):
            raise RuntimeError("the sampler could not connect to the server in 15 s")
        return self

    def cpu(self) -> tuple[float, float]:
        """What sampling has cost so far: this process's thread, and its backend on the
        server (both inside the figures they are part of, to take out of them)."""
        return thread_cpu_seconds(os.getpid(), self._tid), cpu_seconds(self._backend)

    def stop(self) -> dict[str, Any]:
        """Stop sampling; the share of backend samples in each state, how many samples,
        and how many backends each saw (one a daemon: its store's one connection)."""
        self._stop.set()
        self._thread.join(10)
        total = sum(self.seen.values()) or 1
        return {
            "samples": self.samples,
            "backends_per_sample": total / (self.samples or 1),
            "shares": {k: v / total for k, v in self.seen.most_common()},
        }

    def _run(self) -> None:
        self._tid = threading.get_native_id()
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=10) as db:
            self._backend = db.info.backend_pid
            self._ready.set()
            while not self._stop.is_set():
                rows = db.execute(
                    """SELECT state, wait_event_type, wait_event FROM pg_stat_activity
                       WHERE datname = %s AND pid <> pg_backend_pid()""",
                    (self.database,),
                ).fetchall()
                self.seen.update(_what(*row) for row in rows)
                self.samples += 1
                time.sleep(self.every)
