"""The durable store: dossier mirror, messages and their parts, statuses still to publish.

SQLite in WAL mode through aiosqlite, one connection, `synchronous=FULL`: an MQTT message
is acknowledged and a deliver_sm answered only after what it caused is here. Each
aiosqlite call costs a thread hand-off (~0.1 ms), so callers hand over whole batches and
each batch is one transaction of a few `executemany` calls (group commit); one
transaction per message could not keep up with thousands per second.

Every change of a message's state writes its status event into `status_out` in the same
transaction, so a status can be published late but never lost or invented.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from gateway.status import status_event

MIGRATIONS: tuple[str, ...] = (
    # 1: the mirror, the messages, their parts and the status outbox.
    """
    CREATE TABLE dossiers (
        receipt_key TEXT PRIMARY KEY,
        receipt_no TEXT NOT NULL,
        agency TEXT NOT NULL,
        procedure TEXT NOT NULL,
        procedure_code TEXT,
        phone TEXT,
        step TEXT NOT NULL,
        status TEXT NOT NULL,
        due_date TEXT,
        same_day INTEGER NOT NULL DEFAULT 0,
        occurred_at TEXT NOT NULL,
        finished_on TEXT
    );
    CREATE INDEX dossiers_due ON dossiers (due_date);
    CREATE TABLE events (
        event_id TEXT PRIMARY KEY,
        agency TEXT NOT NULL,
        receipt_key TEXT NOT NULL,
        applied INTEGER NOT NULL,
        received_at REAL NOT NULL
    );
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        agency TEXT NOT NULL,
        ref TEXT NOT NULL,
        event_id TEXT,
        receipt_no TEXT,
        kind TEXT NOT NULL,
        procedure TEXT,
        phone TEXT,
        source TEXT NOT NULL,
        text TEXT,
        priority INTEGER NOT NULL,
        state TEXT NOT NULL,
        reason TEXT,
        segments INTEGER NOT NULL DEFAULT 0,
        concat_ref INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        not_before REAL NOT NULL,
        expires_at REAL NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        UNIQUE (agency, ref)
    );
    CREATE INDEX messages_queue ON messages (priority, not_before) WHERE state = 'queued';
    CREATE TABLE parts (
        message_id INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        smsc_id TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'submitted',
        PRIMARY KEY (message_id, seq)
    );
    CREATE TABLE part_keys (
        key TEXT NOT NULL,
        message_id INTEGER NOT NULL,
        seq INTEGER NOT NULL
    );
    CREATE INDEX part_keys_key ON part_keys (key);
    CREATE TABLE early_receipts (
        key TEXT NOT NULL,
        rid TEXT NOT NULL,
        state TEXT NOT NULL,
        error TEXT,
        at REAL NOT NULL
    );
    CREATE INDEX early_receipts_key ON early_receipts (key);
    CREATE TABLE status_out (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        agency TEXT NOT NULL,
        payload TEXT NOT NULL
    );
    CREATE TABLE apology_runs (
        run_day TEXT PRIMARY KEY,
        due_date TEXT NOT NULL,
        queued INTEGER NOT NULL,
        at REAL NOT NULL
    );
    """,
)

# States after which a message never changes again.
FINAL_STATES = frozenset({"delivered", "undeliverable", "expired", "failed", "rejected", "skipped"})


@dataclass(frozen=True, slots=True)
class DossierRow:
    receipt_key: str
    receipt_no: str
    agency: str
    procedure: str
    procedure_code: str | None
    phone: str | None
    step: str
    status: str
    due_date: str | None
    same_day: bool
    occurred_at: str
    finished_on: str | None


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message about to enter the store: queued, or already final (rejected/skipped)."""

    agency: str
    ref: str
    kind: str
    source: str
    priority: int
    state: str
    not_before: float
    expires_at: float
    phone: str | None = None
    text: str | None = None
    segments: int = 0
    concat_ref: int = 0
    reason: str | None = None
    event_id: str | None = None
    receipt_no: str | None = None
    procedure: str | None = None


@dataclass(frozen=True, slots=True)
class Queued:
    """A queued message as the sender needs it."""

    id: int
    agency: str
    ref: str
    kind: str
    phone: str
    source: str
    text: str
    priority: int
    attempts: int
    concat_ref: int
    expires_at: float
    event_id: str | None
    receipt_no: str | None
    done_parts: frozenset[int]


@dataclass(frozen=True, slots=True)
class PartResult:
    """One part accepted by the SMSC: its id and the keys a receipt will be matched by."""

    message_id: int
    seq: int
    smsc_id: str
    keys: frozenset[str]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one send attempt: `state` is submitted, queued (retry) or final."""

    message: Queued
    state: str
    attempts: int
    not_before: float
    parts: Sequence[PartResult] = ()
    reason: str | None = None
    segments: int | None = None


class Store:
    """`async with Store.open(path) as store:`; all writes serialised by one lock."""

    def __init__(self, db: aiosqlite.Connection, clock: Any = time.time) -> None:
        self._db = db
        self._lock = asyncio.Lock()
        self._clock = clock
        # Change notifications, so the sender and the status publisher wait, not poll.
        self.queued_added = asyncio.Event()
        self.status_added = asyncio.Event()

    @classmethod
    @asynccontextmanager
    async def open(cls, path: str | Path, *, clock: Any = time.time) -> AsyncIterator[Store]:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(str(path), isolation_level=None)
        try:
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA synchronous=FULL")
            await db.execute("PRAGMA busy_timeout=5000")
            store = cls(db, clock)
            await store._migrate()
            yield store
        finally:
            await db.close()

    async def _migrate(self) -> None:
        async with self._db.execute("PRAGMA user_version") as cur:
            (version,) = await cur.fetchone()  # type: ignore[misc]
        for number, script in enumerate(MIGRATIONS, start=1):
            if number <= version:
                continue
            await self._db.executescript(
                f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;"
            )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction; nobody else writes meanwhile."""
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            await self._db.execute("COMMIT")

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """A read. It waits for any open transaction: on one shared connection a read in
        the middle of someone's transaction would see rows that may yet roll back."""
        async with self._lock:
            return await _fetch(self._db, sql, params)

    # -- intake ----------------------------------------------------------------------

    async def seen_events(self, event_ids: Sequence[str]) -> set[str]:
        if not event_ids:
            return set()
        rows = await self.fetchall(
            f"SELECT event_id FROM events WHERE event_id IN ({_marks(event_ids)})", event_ids
        )
        return {r[0] for r in rows}

    async def dossiers(self, receipt_keys: Sequence[str]) -> dict[str, DossierRow]:
        if not receipt_keys:
            return {}
        rows = await self.fetchall(
            f"SELECT * FROM dossiers WHERE receipt_key IN ({_marks(receipt_keys)})",
            receipt_keys,
        )
        return {r[0]: _dossier(r) for r in rows}

    async def dossier(self, receipt_key: str) -> DossierRow | None:
        return (await self.dossiers([receipt_key])).get(receipt_key)

    async def existing_refs(self, refs: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which (agency, ref) idempotency keys already have a message."""
        found: set[tuple[str, str]] = set()
        for agency in {a for a, _ in refs}:
            mine = [r for a, r in refs if a == agency]
            rows = await self.fetchall(
                f"SELECT ref FROM messages WHERE agency = ? AND ref IN ({_marks(mine)})",
                [agency, *mine],
            )
            found.update((agency, r[0]) for r in rows)
        return found

    async def record_intake(
        self,
        *,
        events: Iterable[tuple[str, str, str, bool]] = (),
        dossiers: Iterable[DossierRow] = (),
        messages: Iterable[NewMessage] = (),
        statuses: Iterable[tuple[str, dict[str, Any]]] = (),
    ) -> None:
        """Commit one batch of intake effects in one transaction (group commit)."""
        now = self._clock()
        messages = list(messages)
        async with self.transaction() as db:
            await db.executemany(
                "INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?)",
                [(e, a, k, int(applied), now) for e, a, k, applied in events],
            )
            await db.executemany(
                "INSERT OR REPLACE INTO dossiers VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                [_dossier_tuple(d) for d in dossiers],
            )
            await db.executemany(
                """INSERT OR IGNORE INTO messages (agency, ref, event_id, receipt_no, kind,
                   procedure, phone, source, text, priority, state, reason, segments,
                   concat_ref, not_before, expires_at, created_at, updated_at)
                   VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
                [
                    (
                        m.agency,
                        m.ref,
                        m.event_id,
                        m.receipt_no,
                        m.kind,
                        m.procedure,
                        m.phone,
                        m.source,
                        m.text,
                        m.priority,
                        m.state,
                        m.reason,
                        m.segments,
                        m.concat_ref,
                        m.not_before,
                        m.expires_at,
                        now,
                        now,
                    )
                    for m in messages
                ],
            )
            payloads = [
                (
                    m.agency,
                    _json(
                        status_event(
                            ref=m.ref,
                            event_id=m.event_id,
                            receipt_no=m.receipt_no,
                            kind=m.kind,
                            phone=m.phone,
                            state=m.state,
                            reason=m.reason,
                            segments=m.segments,
                            at=now,
                        )
                    ),
                )
                for m in messages
            ]
            payloads += [(agency, _json(event)) for agency, event in statuses]
            await db.executemany("INSERT INTO status_out (agency, payload) VALUES (?, ?)", payloads)
        if payloads:
            self.status_added.set()
        if any(m.state == "queued" for m in messages):
            self.queued_added.set()

    # -- sender ----------------------------------------------------------------------

    async def due(self, limit: int, exclude: Iterable[int] = ()) -> list[Queued]:
        """Queued messages whose time has come, most urgent first."""
        skip = list(exclude)
        rows = await self.fetchall(
            f"""SELECT id, agency, ref, kind, phone, source, text, priority, attempts,
                       concat_ref, expires_at, event_id, receipt_no
                FROM messages
                WHERE state = 'queued' AND not_before <= ?
                {f"AND id NOT IN ({_marks(skip)})" if skip else ""}
                ORDER BY priority, not_before, id LIMIT ?""",
            [self._clock(), *skip, limit],
        )
        if not rows:
            return []
        ids = [r[0] for r in rows]
        done: dict[int, set[int]] = {}
        for mid, seq in await self.fetchall(
            f"SELECT message_id, seq FROM parts WHERE message_id IN ({_marks(ids)})", ids
        ):
            done.setdefault(mid, set()).add(seq)
        return [Queued(*r[:13], done_parts=frozenset(done.get(r[0], ()))) for r in rows]

    async def next_due_at(self) -> float | None:
        rows = await self.fetchall("SELECT MIN(not_before) FROM messages WHERE state = 'queued'")
        return rows[0][0] if rows else None

    async def record_outcomes(self, outcomes: Sequence[Outcome]) -> None:
        """Commit what the sender did with a batch of messages, in one transaction."""
        if not outcomes:
            return
        now = self._clock()
        parts = [p for o in outcomes for p in o.parts]
        async with self.transaction() as db:
            await db.executemany(
                "INSERT OR REPLACE INTO parts (message_id, seq, smsc_id) VALUES (?, ?, ?)",
                [(p.message_id, p.seq, p.smsc_id) for p in parts],
            )
            await db.executemany(
                "INSERT INTO part_keys VALUES (?, ?, ?)",
                [(k, p.message_id, p.seq) for p in parts for k in p.keys],
            )
            await db.executemany(
                """UPDATE messages SET state = ?, reason = ?, updated_at = ?,
                       segments = COALESCE(?, segments), attempts = ?, not_before = ?
                   WHERE id = ?""",
                [
                    (o.state, o.reason, now, o.segments, o.attempts, o.not_before, o.message.id)
                    for o in outcomes
                ],
            )
            await db.executemany(
                "INSERT INTO status_out (agency, payload) VALUES (?, ?)",
                [
                    (
                        o.message.agency,
                        _json(_status_of(o.message, o.state, o.reason, o.segments, now)),
                    )
                    for o in outcomes
                    if o.state != "queued"
                ],
            )
            keys = [k for p in parts for k in p.keys]
            if keys:
                early = await _fetch(
                    db,
                    f"""SELECT DISTINCT key, rid, state, error FROM early_receipts
                        WHERE key IN ({_marks(keys)})""",
                    keys,
                )
                await db.executemany(
                    "DELETE FROM early_receipts WHERE rid = ?", [(r[1],) for r in early]
                )
                for key, _rid, state, error in early:
                    await self._apply_receipt(db, [key], state, error)
        self.status_added.set()
        if any(o.state == "queued" for o in outcomes):
            self.queued_added.set()

    # -- receipts --------------------------------------------------------------------

    async def record_receipts(
        self, receipts: Sequence[tuple[frozenset[str], str, str | None]]
    ) -> None:
        """Apply (keys, state, error) receipts; one whose part is not known yet is kept
        until its submit_sm_resp has been recorded (receipts can overtake responses)."""
        if not receipts:
            return
        now = self._clock()
        async with self.transaction() as db:
            for keys, state, error in receipts:
                if not keys:
                    continue
                if await self._apply_receipt(db, list(keys), state, error):
                    self.status_added.set()
                else:
                    rid = min(keys)
                    await db.executemany(
                        "INSERT INTO early_receipts VALUES (?, ?, ?, ?, ?)",
                        [(k, rid, state, error, now) for k in keys],
                    )

    async def _apply_receipt(
        self, db: aiosqlite.Connection, keys: list[str], state: str, error: str | None
    ) -> bool:
        rows = await _fetch(
            db,
            f"SELECT DISTINCT message_id, seq FROM part_keys WHERE key IN ({_marks(keys)})",
            keys,
        )
        if not rows:
            return False
        for message_id, seq in rows:
            await db.execute(
                "UPDATE parts SET state = ? WHERE message_id = ? AND seq = ?",
                (state, message_id, seq),
            )
            await self._settle(db, message_id, error)
        return True

    async def _settle(self, db: aiosqlite.Connection, message_id: int, error: str | None) -> None:
        """A message is delivered when all its parts are; any final failure decides it."""
        (row,) = await _fetch(db, "SELECT state, segments FROM messages WHERE id = ?", [message_id])
        state, segments = row
        if state != "submitted":
            return
        part_states = [
            r[0]
            for r in await _fetch(db, "SELECT state FROM parts WHERE message_id = ?", [message_id])
        ]
        final = None
        for bad in ("undeliverable", "expired", "failed"):
            if bad in part_states:
                final = bad
        if (
            final is None
            and len(part_states) >= segments
            and all(s == "delivered" for s in part_states)
        ):
            final = "delivered"
        if final is None:
            return
        now = self._clock()
        reason = None if final == "delivered" else (error or final)
        await db.execute(
            "UPDATE messages SET state = ?, reason = ?, updated_at = ? WHERE id = ?",
            (final, reason, now, message_id),
        )
        await self._emit(db, message_id, final, reason, now)

    async def _emit(
        self, db: aiosqlite.Connection, message_id: int, state: str, reason: str | None, at: float
    ) -> None:
        (row,) = await _fetch(
            db,
            """SELECT agency, ref, event_id, receipt_no, kind, phone, segments
               FROM messages WHERE id = ?""",
            [message_id],
        )
        agency, ref, event_id, receipt_no, kind, phone, segments = row
        event = status_event(
            ref=ref,
            event_id=event_id,
            receipt_no=receipt_no,
            kind=kind,
            phone=phone,
            state=state,
            reason=reason,
            segments=segments,
            at=at,
        )
        await db.execute(
            "INSERT INTO status_out (agency, payload) VALUES (?, ?)", (agency, _json(event))
        )

    # -- apologies ------------------------------------------------------------------

    async def open_dossiers_due(self, due_date: str) -> list[DossierRow]:
        """Dossiers due on `due_date` that have not reached a finished status."""
        rows = await self.fetchall(
            """SELECT * FROM dossiers WHERE due_date = ?
               AND status NOT IN ('result_ready', 'returned', 'rejected', 'withdrawn')""",
            [due_date],
        )
        return [_dossier(r) for r in rows]

    async def apology_ran(self, run_day: str) -> bool:
        rows = await self.fetchall("SELECT 1 FROM apology_runs WHERE run_day = ?", [run_day])
        return bool(rows)

    async def record_apology_run(
        self, run_day: str, due_date: str, messages: Sequence[NewMessage]
    ) -> int:
        """Queue the run's new apologies, then mark the run done; returns how many were new.

        A crash between the two re-runs the day at start-up, harmlessly: refs dedupe.
        """
        existing = await self.existing_refs([(m.agency, m.ref) for m in messages])
        fresh = [m for m in messages if (m.agency, m.ref) not in existing]
        await self.record_intake(messages=fresh)
        async with self.transaction() as db:
            await db.execute(
                "INSERT OR REPLACE INTO apology_runs VALUES (?, ?, ?, ?)",
                (run_day, due_date, len(fresh), self._clock()),
            )
        return len(fresh)

    # -- status outbox ---------------------------------------------------------------

    async def pending_statuses(self, limit: int = 500) -> list[tuple[int, str, str]]:
        return await self.fetchall(
            "SELECT seq, agency, payload FROM status_out ORDER BY seq LIMIT ?", [limit]
        )

    async def statuses_published(self, up_to_seq: int) -> None:
        async with self.transaction() as db:
            await db.execute("DELETE FROM status_out WHERE seq <= ?", (up_to_seq,))

    # -- queries for health and tests ------------------------------------------------

    async def counts(self) -> dict[str, int]:
        rows = await self.fetchall("SELECT state, COUNT(*) FROM messages GROUP BY state")
        return {state: n for state, n in rows}


def _status_of(
    m: Queued, state: str, reason: str | None, segments: int | None, at: float
) -> dict[str, Any]:
    return status_event(
        ref=m.ref,
        event_id=m.event_id,
        receipt_no=m.receipt_no,
        kind=m.kind,
        phone=m.phone,
        state=state,
        reason=reason,
        segments=segments or 0,
        at=at,
    )


def _marks(items: Sequence[Any]) -> str:
    return ",".join("?" * len(items))


def _json(event: dict[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


async def _fetch(db: aiosqlite.Connection, sql: str, params: Sequence[Any]) -> list[Any]:
    async with db.execute(sql, params) as cur:
        return list(await cur.fetchall())


def _dossier(row: Sequence[Any]) -> DossierRow:
    values = list(row)
    values[9] = bool(values[9])
    return DossierRow(*values)


def _dossier_tuple(d: DossierRow) -> tuple[Any, ...]:
    return (
        d.receipt_key,
        d.receipt_no,
        d.agency,
        d.procedure,
        d.procedure_code,
        d.phone,
        d.step,
        d.status,
        d.due_date,
        int(d.same_day),
        d.occurred_at,
        d.finished_on,
    )
