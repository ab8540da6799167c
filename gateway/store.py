"""The durable store: dossier mirror, messages and their parts, statuses still to publish.

SQLite in WAL mode, one connection, `synchronous=FULL`: an MQTT message is acknowledged
and a deliver_sm answered only after what it caused is here. Callers hand over whole
batches and each batch is one transaction of a few `executemany` calls (group commit);
one transaction per message could not keep up with thousands per second.

The connection lives on a thread of its own and each transaction runs there whole, in a
single hand-off from the event loop. (With aiosqlite each statement was a round trip
through the loop; under load a loop turn takes milliseconds, so a seven-statement
transaction held the database for ~7 ms and everything queued behind it.)

Every change of a message's state writes its status event into `status_out` in the same
transaction, so a status can be published late but never lost or invented.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from gateway.status import status_event

R = TypeVar("R")

# Host parameters per statement, well under SQLite's limit (32,766).
CHUNK = 10_000

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
    # 2: every MO, stored before its deliver_sm_resp, with what became of it.
    """
    CREATE TABLE mo_log (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        sender TEXT NOT NULL,
        shortcode TEXT NOT NULL,
        text TEXT NOT NULL,
        keyword TEXT,
        outcome TEXT NOT NULL,
        reply_ref TEXT
    );
    CREATE INDEX mo_log_at ON mo_log (at);
    """,
)

# States after which a message never changes again.
# A delivery receipt as the store applies it: the part's message-id keys, the part's new
# state, the error to report if it fails the message.
ReceiptUpdate = tuple[frozenset[str], str, str | None]

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
class MoRecord:
    """One MO as received and what the dispatcher decided (`outcome`)."""

    at: float
    sender: str
    shortcode: str
    text: str
    keyword: str | None
    outcome: str
    reply_ref: str | None = None


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
    """`async with Store.open(path) as store:`.

    One SQLite connection owned by one thread. Every public method is one call into that
    thread: a write runs its whole transaction there (BEGIN … COMMIT) and comes back
    once, so no transaction is ever interleaved with another and none waits on the event
    loop between its statements.
    """

    def __init__(
        self, db: sqlite3.Connection, thread: ThreadPoolExecutor, clock: Any = time.time
    ) -> None:
        self._db = db
        self._thread = thread
        self._clock = clock
        # Change notifications, so the sender and the status publisher wait, not poll.
        self.queued_added = asyncio.Event()
        self.status_added = asyncio.Event()

    @classmethod
    @asynccontextmanager
    async def open(cls, path: str | Path, *, clock: Any = time.time) -> AsyncIterator[Store]:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        loop = asyncio.get_running_loop()
        try:
            db = await loop.run_in_executor(thread, _connect, str(path))
            try:
                yield cls(db, thread, clock)
            finally:
                await loop.run_in_executor(thread, db.close)
        finally:
            thread.shutdown(wait=True)

    async def _call(self, fn: Callable[..., R], *args: Any) -> R:
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    async def _write(self, fn: Callable[..., R], *args: Any) -> R:
        """`fn(db, *args)` as one transaction, in the store's thread."""
        return await self._call(_transaction, self._db, fn, args)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return await self._call(_fetch, self._db, sql, params)

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
        return await self._call(_existing_refs, self._db, refs)

    async def record_intake(
        self,
        *,
        events: Iterable[tuple[str, str, str, bool]] = (),
        dossiers: Iterable[DossierRow] = (),
        messages: Iterable[NewMessage] = (),
        statuses: Iterable[tuple[str, dict[str, Any]]] = (),
    ) -> None:
        """Commit one batch of intake effects in one transaction (group commit)."""
        messages = list(messages)
        statuses = list(statuses)
        await self._write(
            _record_intake, list(events), list(dossiers), messages, statuses, self._clock()
        )
        if messages or statuses:
            self.status_added.set()
        if any(m.state == "queued" for m in messages):
            self.queued_added.set()

    # -- sender ----------------------------------------------------------------------

    async def due(
        self, limit: int, exclude: Iterable[int] = (), *, max_priority: int | None = None
    ) -> list[Queued]:
        """Queued messages whose time has come, most urgent first; with `max_priority`,
        only the lanes up to it (inside quiet hours the sender asks for MO replies only)."""
        return await self._call(_due, self._db, limit, list(exclude), self._clock(), max_priority)

    async def next_due_at(self, *, max_priority: int | None = None) -> float | None:
        lanes = "" if max_priority is None else " AND priority <= ?"
        rows = await self.fetchall(
            f"SELECT MIN(not_before) FROM messages WHERE state = 'queued'{lanes}",
            () if max_priority is None else (max_priority,),
        )
        return rows[0][0] if rows else None

    async def record_outcomes(self, outcomes: Sequence[Outcome]) -> None:
        """Commit what the sender did with a batch of messages, in one transaction."""
        if not outcomes:
            return
        await self._write(_record_outcomes, outcomes, self._clock())
        self.status_added.set()
        if any(o.state == "queued" for o in outcomes):
            self.queued_added.set()

    # -- receipts --------------------------------------------------------------------

    async def record_receipts(self, receipts: Sequence[ReceiptUpdate]) -> None:
        """Apply (keys, state, error) receipts; one whose part is not known yet is kept
        until its submit_sm_resp has been recorded (receipts can overtake responses)."""
        receipts = [r for r in receipts if r[0]]
        if not receipts:
            return
        await self._write(_record_receipts, receipts, self._clock())
        self.status_added.set()

    # -- MO --------------------------------------------------------------------------

    async def record_mos(self, items: Sequence[tuple[MoRecord, NewMessage | None]]) -> None:
        """Each MO with its reply (if any), in one transaction: a reply is never queued
        for an MO that is not stored, and a stored MO's reply is never lost."""
        if not items:
            return
        replies = [reply for _, reply in items if reply is not None]
        await self._write(_record_mos, items, replies, self._clock())
        if replies:
            self.status_added.set()
            self.queued_added.set()

    async def recent_mos(self, since: float) -> list[tuple[float, str, str, str]]:
        """(at, sender, text, outcome) of the MOs since `since`, oldest first."""
        return await self.fetchall(
            "SELECT at, sender, text, outcome FROM mo_log WHERE at >= ? ORDER BY at", [since]
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
        """Queue the run's new apologies and mark the run done, in one transaction;
        returns how many were new (refs dedupe a run repeated after a crash)."""
        fresh = await self._write(_record_apology_run, run_day, due_date, messages, self._clock())
        if fresh:
            self.status_added.set()
            self.queued_added.set()
        return fresh

    # -- status outbox ---------------------------------------------------------------

    async def pending_statuses(
        self, limit: int = 500, *, after: int = 0
    ) -> list[tuple[int, str, str]]:
        """Statuses not yet known to be published, oldest first, from `after` on."""
        return await self.fetchall(
            "SELECT seq, agency, payload FROM status_out WHERE seq > ? ORDER BY seq LIMIT ?",
            [after, limit],
        )

    async def statuses_published(self, up_to_seq: int) -> None:
        await self._write(_execute, "DELETE FROM status_out WHERE seq <= ?", (up_to_seq,))

    # -- queries for health and tests ------------------------------------------------

    async def purge_personal_data(self, before: float) -> dict[str, int]:
        """Forget numbers and texts of what ended before `before`; keep the figures."""
        return await self._write(_purge, before)

    async def queue(self) -> tuple[int, float | None]:
        """How many messages wait to be sent, and since when the oldest has (created_at)."""
        ((depth, oldest),) = await self.fetchall(
            "SELECT COUNT(*), MIN(created_at) FROM messages WHERE state IN ('queued', 'submitted')"
        )
        return depth, oldest

    async def counts(self) -> dict[str, int]:
        rows = await self.fetchall("SELECT state, COUNT(*) FROM messages GROUP BY state")
        return {state: n for state, n in rows}


# -- in the store's thread -------------------------------------------------------------


def _connect(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA busy_timeout=5000")
    (version,) = db.execute("PRAGMA user_version").fetchone()
    for number, script in enumerate(MIGRATIONS, start=1):
        if number > version:
            db.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")
    return db


def _transaction(db: sqlite3.Connection, fn: Callable[..., R], args: Sequence[Any]) -> R:
    db.execute("BEGIN IMMEDIATE")
    try:
        result = fn(db, *args)
        db.execute("COMMIT")
    except BaseException:
        # A failed COMMIT (disk full) may leave the transaction open, or SQLite may have
        # rolled it back already; either way the next BEGIN must find none open.
        if db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
        raise
    return result


def _fetch(db: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[Any]:
    return db.execute(sql, params).fetchall()


def _execute(db: sqlite3.Connection, sql: str, params: Sequence[Any]) -> None:
    db.execute(sql, params)


def _existing_refs(db: sqlite3.Connection, refs: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for agency in {a for a, _ in refs}:
        mine = [r for a, r in refs if a == agency]
        for at in range(0, len(mine), CHUNK):
            chunk = mine[at : at + CHUNK]
            rows = db.execute(
                f"SELECT ref FROM messages WHERE agency = ? AND ref IN ({_marks(chunk)})",
                [agency, *chunk],
            )
            found.update((agency, r[0]) for r in rows)
    return found


def _record_intake(
    db: sqlite3.Connection,
    events: Sequence[tuple[str, str, str, bool]],
    dossiers: Sequence[DossierRow],
    messages: Sequence[NewMessage],
    statuses: Sequence[tuple[str, dict[str, Any]]],
    now: float,
) -> None:
    db.executemany(
        "INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?)",
        [(e, a, k, int(applied), now) for e, a, k, applied in events],
    )
    db.executemany(
        "INSERT OR REPLACE INTO dossiers VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        [_dossier_tuple(d) for d in dossiers],
    )
    db.executemany(
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
    db.executemany("INSERT INTO status_out (agency, payload) VALUES (?, ?)", payloads)


def _due(
    db: sqlite3.Connection, limit: int, skip: list[int], now: float, max_priority: int | None
) -> list[Queued]:
    lanes = [] if max_priority is None else [max_priority]
    rows = db.execute(
        f"""SELECT id, agency, ref, kind, phone, source, text, priority, attempts,
                   concat_ref, expires_at, event_id, receipt_no
            FROM messages
            WHERE state = 'queued' AND not_before <= ?
            {"AND priority <= ?" if lanes else ""}
            {f"AND id NOT IN ({_marks(skip)})" if skip else ""}
            ORDER BY priority, not_before, id LIMIT ?""",
        [now, *lanes, *skip, limit],
    ).fetchall()
    if not rows:
        return []
    ids = [r[0] for r in rows]
    done: dict[int, set[int]] = {}
    for mid, seq in db.execute(
        f"SELECT message_id, seq FROM parts WHERE message_id IN ({_marks(ids)})", ids
    ):
        done.setdefault(mid, set()).add(seq)
    return [Queued(*r[:13], done_parts=frozenset(done.get(r[0], ()))) for r in rows]


def _record_outcomes(db: sqlite3.Connection, outcomes: Sequence[Outcome], now: float) -> None:
    parts = [p for o in outcomes for p in o.parts]
    db.executemany(
        "INSERT OR REPLACE INTO parts (message_id, seq, smsc_id) VALUES (?, ?, ?)",
        [(p.message_id, p.seq, p.smsc_id) for p in parts],
    )
    db.executemany(
        "INSERT INTO part_keys VALUES (?, ?, ?)",
        [(k, p.message_id, p.seq) for p in parts for k in p.keys],
    )
    db.executemany(
        """UPDATE messages SET state = ?, reason = ?, updated_at = ?,
               segments = COALESCE(?, segments), attempts = ?, not_before = ?
           WHERE id = ?""",
        [
            (o.state, o.reason, now, o.segments, o.attempts, o.not_before, o.message.id)
            for o in outcomes
        ],
    )
    db.executemany(
        "INSERT INTO status_out (agency, payload) VALUES (?, ?)",
        [
            (o.message.agency, _json(_status_of(o.message, o.state, o.reason, o.segments, now)))
            for o in outcomes
            if o.state != "queued"
        ],
    )
    keys = [k for p in parts for k in p.keys]
    if not keys:
        return
    # Receipts that overtook their submit_sm_resp can be applied now.
    early = db.execute(
        f"""SELECT key, rid, state, error FROM early_receipts
            WHERE rid IN (SELECT rid FROM early_receipts WHERE key IN ({_marks(keys)}))
            ORDER BY rowid""",
        keys,
    ).fetchall()
    if not early:
        return
    by_rid: dict[str, tuple[set[str], str, str | None]] = {}
    for key, rid, state, error in early:
        by_rid.setdefault(rid, (set(), state, error))[0].add(key)
    db.executemany("DELETE FROM early_receipts WHERE rid = ?", [(rid,) for rid in by_rid])
    _apply_receipts(db, [(frozenset(k), st, err) for k, st, err in by_rid.values()], now)


def _record_receipts(db: sqlite3.Connection, receipts: Sequence[ReceiptUpdate], now: float) -> None:
    unmatched = _apply_receipts(db, receipts, now)
    db.executemany(
        "INSERT INTO early_receipts VALUES (?, ?, ?, ?, ?)",
        [(k, min(keys), state, error, now) for keys, state, error in unmatched for k in keys],
    )


def _apply_receipts(
    db: sqlite3.Connection, receipts: Sequence[ReceiptUpdate], now: float
) -> list[ReceiptUpdate]:
    """Set-based: a handful of statements per batch, whatever its size. Returns the
    receipts that match no known part."""
    keys = sorted({k for ks, _, _ in receipts for k in ks})
    where: dict[str, set[tuple[int, int]]] = {}
    for key, message_id, seq in db.execute(
        f"SELECT key, message_id, seq FROM part_keys WHERE key IN ({_marks(keys)})", keys
    ):
        where.setdefault(key, set()).add((message_id, seq))
    unmatched: list[ReceiptUpdate] = []
    part_state: dict[tuple[int, int], str] = {}
    errors: dict[int, str] = {}
    for ks, state, error in receipts:
        hits = {part for k in ks for part in where.get(k, ())}
        if not hits:
            unmatched.append((ks, state, error))
        for part in hits:
            if state == "enroute" and part_state.get(part, "enroute") != "enroute":
                continue  # a late "still trying" never undoes a final answer
            part_state[part] = state
            if error:
                errors[part[0]] = error
    if not part_state:
        return unmatched
    db.executemany(
        "UPDATE parts SET state = ? WHERE message_id = ? AND seq = ?",
        [(st, mid, seq) for (mid, seq), st in part_state.items() if st != "enroute"],
    )
    db.executemany(
        """UPDATE parts SET state = ? WHERE message_id = ? AND seq = ?
           AND state IN ('submitted', 'enroute')""",
        [(st, mid, seq) for (mid, seq), st in part_state.items() if st == "enroute"],
    )
    _settle(db, sorted({mid for mid, _ in part_state}), errors, now)
    return unmatched


def _settle(
    db: sqlite3.Connection, ids: Sequence[int], errors: Mapping[int, str], now: float
) -> None:
    """A message is delivered when all its parts are; any final failure decides it."""
    rows = db.execute(
        f"""SELECT m.id, m.state, m.segments, m.agency, m.ref, m.event_id, m.receipt_no,
                   m.kind, m.phone, group_concat(p.state, ',')
            FROM messages m JOIN parts p ON p.message_id = m.id
            WHERE m.id IN ({_marks(ids)}) GROUP BY m.id""",
        ids,
    ).fetchall()
    settled: list[tuple[str, str | None, float, int]] = []
    statuses: list[tuple[str, str]] = []
    for mid, state, segments, agency, ref, event_id, receipt_no, kind, phone, states in rows:
        if state != "submitted":
            continue
        final = _final_state(states.split(","), segments)
        if final is None:
            continue
        reason = None if final == "delivered" else (errors.get(mid) or final)
        settled.append((final, reason, now, mid))
        event = status_event(
            ref=ref,
            event_id=event_id,
            receipt_no=receipt_no,
            kind=kind,
            phone=phone,
            state=final,
            reason=reason,
            segments=segments,
            at=now,
        )
        statuses.append((agency, _json(event)))
    db.executemany(
        "UPDATE messages SET state = ?, reason = ?, updated_at = ? WHERE id = ?", settled
    )
    db.executemany("INSERT INTO status_out (agency, payload) VALUES (?, ?)", statuses)


def _record_mos(
    db: sqlite3.Connection,
    items: Sequence[tuple[MoRecord, NewMessage | None]],
    replies: Sequence[NewMessage],
    now: float,
) -> None:
    db.executemany(
        "INSERT INTO mo_log (at, sender, shortcode, text, keyword, outcome, reply_ref)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (m.at, m.sender, m.shortcode, m.text, m.keyword, m.outcome, m.reply_ref)
            for m, _ in items
        ],
    )
    _record_intake(db, [], [], replies, [], now)


def _purge(db: sqlite3.Connection, before: float) -> dict[str, int]:
    finals = ", ".join(f"'{s}'" for s in sorted(FINAL_STATES))
    messages = db.execute(
        f"""UPDATE messages SET phone = NULL, text = NULL
            WHERE updated_at < ? AND state IN ({finals})
              AND (phone IS NOT NULL OR text IS NOT NULL)""",
        (before,),
    ).rowcount
    db.execute(
        f"""DELETE FROM part_keys WHERE message_id IN
            (SELECT id FROM messages WHERE updated_at < ? AND state IN ({finals}))""",
        (before,),
    )
    mos = db.execute(
        "UPDATE mo_log SET sender = '', text = '' WHERE at < ? AND sender != ''", (before,)
    ).rowcount
    cutoff_day = datetime.fromtimestamp(before, UTC).isoformat()
    dossiers = db.execute(
        "UPDATE dossiers SET phone = NULL WHERE occurred_at < ? AND phone IS NOT NULL",
        (cutoff_day,),
    ).rowcount
    return {"messages": messages, "mo": mos, "dossiers": dossiers}


def _record_apology_run(
    db: sqlite3.Connection,
    run_day: str,
    due_date: str,
    messages: Sequence[NewMessage],
    now: float,
) -> int:
    existing = _existing_refs(db, [(m.agency, m.ref) for m in messages])
    fresh = [m for m in messages if (m.agency, m.ref) not in existing]
    _record_intake(db, [], [], fresh, [], now)
    db.execute(
        "INSERT OR REPLACE INTO apology_runs VALUES (?, ?, ?, ?)",
        (run_day, due_date, len(fresh), now),
    )
    return len(fresh)


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


def _final_state(part_states: Sequence[str], segments: int) -> str | None:
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
    return final


def _marks(items: Sequence[Any]) -> str:
    return ",".join("?" * len(items))


def _json(event: dict[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


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
