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

Beside this module: `schema` (the file, its migrations and start-up checks),
`store_lock` (one daemon per store) and `store_receipts` (receipts, early receipts,
expiry of messages whose receipt never came).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from gateway.domain.dossier import FINISHED_STATUSES, DossierKey, DossierRow
from gateway.domain.message import MoRecord, NewMessage, Outcome, Queued, ReceiptUpdate
from gateway.domain.states import FINAL_STATES, MessageState
from gateway.domain.status_event import encode, status_payload
from gateway.store import receipts as store_receipts
from gateway.store.schema import SCHEMA_VERSION, StoreOutdated, connect, read_only

R = TypeVar("R")

# Host parameters per statement, well under SQLite's limit (32,766).
CHUNK = 10_000

# The health queries: run every few seconds and on every scrape, on the store's only
# thread, so each reads a handful of rows whatever the size of the table (a test holds
# them to their query plans).
QUEUE_DEPTH_SQL = (
    "SELECT COALESCE(SUM(n), 0) FROM message_states WHERE state IN ('queued', 'submitted')"
)
OLDEST_WAITING_SQL = (
    "SELECT MIN(at) FROM ("
    "SELECT MIN(created_at) AS at FROM messages WHERE state = 'queued' UNION ALL "
    "SELECT MIN(created_at) FROM messages WHERE state = 'submitted')"
)
COUNTS_SQL = "SELECT state, n FROM message_states WHERE n > 0"

_FINISHED = ", ".join(f"'{status}'" for status in sorted(FINISHED_STATUSES))


class Store:
    """`async with Store.open(path) as store:`.

    One SQLite connection owned by one thread. Every public method is one call into that
    thread: a write runs its whole transaction there (BEGIN … COMMIT) and comes back
    once, so no transaction is ever interleaved with another and none waits on the event
    loop between its statements.
    """

    def __init__(
        self,
        db: sqlite3.Connection,
        thread: ThreadPoolExecutor,
        clock: Any = time.time,
        *,
        path: str = ":memory:",
        version: int = SCHEMA_VERSION,
    ) -> None:
        self._db = db
        self._path = path
        self._version = version
        self._thread = thread
        self._clock = clock
        # Change notifications, so the sender and the status publisher wait, not poll.
        self.queued_added = asyncio.Event()
        self.status_added = asyncio.Event()

    @classmethod
    @asynccontextmanager
    async def open(
        cls, path: str | Path, *, clock: Any = time.time, readonly: bool = False
    ) -> AsyncIterator[Store]:
        """Open, check and migrate the store; StoreUnusable (naming the file) if it cannot
        be used. Holding it against other daemons is `store_lock.hold`, the daemon's part.

        `readonly` is for readers beside the daemon (`report`): the store is read as it
        is, at its own schema version, and a query its older schema cannot answer is
        StoreOutdated."""
        thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        loop = asyncio.get_running_loop()
        try:
            version = SCHEMA_VERSION  # connect migrates to it
            if readonly:
                db, version = await loop.run_in_executor(thread, read_only, str(path))
            else:
                db = await loop.run_in_executor(thread, connect, str(path))
            try:
                yield cls(db, thread, clock, path=str(path), version=version)
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
        try:
            return await self._call(_fetch, self._db, sql, params)
        except sqlite3.OperationalError as exc:
            if self._version >= SCHEMA_VERSION:
                raise
            raise StoreOutdated(self._path, self._version, exc) from None

    # -- intake ----------------------------------------------------------------------

    async def event_digests(
        self, events: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], str | None]:
        """The content digest of each (agency, event id) already recorded (None once
        purged, or for an event recorded before digests were kept)."""
        return await self._call(_digests, self._db, "events", "event_id", events)

    async def dossiers(self, keys: Sequence[DossierKey]) -> dict[DossierKey, DossierRow]:
        """The mirror's rows under (agency, receipt key): a receipt number is unique
        within one agency only, so another agency's dossier of that number is not it."""
        wanted = set(keys)
        rows = await self.lookup(sorted({receipt for _, receipt in wanted}))
        return {row.key: row for found in rows.values() for row in found if row.key in wanted}

    async def dossier(self, agency: str, receipt_key: str) -> DossierRow | None:
        return (await self.dossiers([(agency, receipt_key)])).get((agency, receipt_key))

    async def lookup(self, receipt_keys: Sequence[str]) -> dict[str, list[DossierRow]]:
        """Every agency's dossier under each receipt key, in agency order (MCKH)."""
        if not receipt_keys:
            return {}
        rows = await self.fetchall(
            f"""SELECT * FROM dossiers WHERE receipt_key IN ({_marks(receipt_keys)})
                ORDER BY receipt_key, agency""",
            receipt_keys,
        )
        found: dict[str, list[DossierRow]] = {}
        for row in rows:
            found.setdefault(row[0], []).append(_dossier(row))
        return found

    async def ref_digests(
        self, refs: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], str | None]:
        """The content digest of the job behind each (agency, ref) that has a message
        (None for a message that is no job, or once purged)."""
        return await self._call(_digests, self._db, "messages", "ref", refs)

    async def record_intake(
        self,
        *,
        events: Iterable[tuple[str, str, str, bool, str | None]] = (),
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
        if any(m.state is MessageState.QUEUED for m in messages):
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
        if any(o.state is MessageState.QUEUED for o in outcomes):
            self.queued_added.set()

    # -- receipts --------------------------------------------------------------------

    async def record_receipts(self, receipts: Sequence[ReceiptUpdate]) -> None:
        """Apply (keys, state, error) receipts; one whose part is not known yet is kept
        until its submit_sm_resp has been recorded (receipts can overtake responses)."""
        batch = [r for r in receipts if r[0]]
        if not batch:
            return
        await self._write(store_receipts.record_receipts, batch, self._clock())
        self.status_added.set()

    async def expire_unreceipted(self, timeout: float, *, limit: int = 1000) -> int:
        """Messages submitted over `timeout` seconds ago with no final receipt become
        `expired` ("no delivery receipt"), at most `limit` in one transaction; receipts
        that have waited too long for their part are forgotten. Returns how many expired."""
        expired = await self._write(_sweep_receipts, timeout, limit, self._clock())
        if expired:
            self.status_added.set()
        return expired

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
            f"SELECT * FROM dossiers WHERE due_date = ? AND status NOT IN ({_FINISHED})",
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
        return await self._call(_queue, self._db)

    async def counts(self) -> dict[str, int]:
        """Messages by state, from the counters the triggers keep."""
        rows = await self.fetchall(COUNTS_SQL)
        return {state: n for state, n in rows}


# -- in the store's thread -------------------------------------------------------------


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


def _queue(db: sqlite3.Connection) -> tuple[int, float | None]:
    ((depth,),) = db.execute(QUEUE_DEPTH_SQL).fetchall()
    ((oldest,),) = db.execute(OLDEST_WAITING_SQL).fetchall()
    return depth, oldest


def _fetch(db: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[Any]:
    return db.execute(sql, params).fetchall()


def _execute(db: sqlite3.Connection, sql: str, params: Sequence[Any]) -> None:
    db.execute(sql, params)


def _digests(
    db: sqlite3.Connection, table: str, column: str, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], str | None]:
    """The (agency, key) idempotency keys `table` holds, with their content digest (its
    index leads with agency)."""
    found: dict[tuple[str, str], str | None] = {}
    for agency in {a for a, _ in keys}:
        mine = [k for a, k in keys if a == agency]
        for at in range(0, len(mine), CHUNK):
            chunk = mine[at : at + CHUNK]
            rows = db.execute(
                f"""SELECT {column}, digest FROM {table}
                    WHERE agency = ? AND {column} IN ({_marks(chunk)})""",
                [agency, *chunk],
            )
            found.update(((agency, r[0]), r[1]) for r in rows)
    return found


def _record_intake(
    db: sqlite3.Connection,
    events: Sequence[tuple[str, str, str, bool, str | None]],
    dossiers: Sequence[DossierRow],
    messages: Sequence[NewMessage],
    statuses: Sequence[tuple[str, dict[str, Any]]],
    now: float,
) -> None:
    db.executemany(
        """INSERT OR IGNORE INTO events (event_id, agency, receipt_key, applied, received_at,
           digest) VALUES (?, ?, ?, ?, ?, ?)""",
        [(e, a, k, int(applied), now, d) for e, a, k, applied, d in events],
    )
    db.executemany(
        "INSERT OR REPLACE INTO dossiers VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [_dossier_tuple(d) for d in dossiers],
    )
    db.executemany(
        """INSERT OR IGNORE INTO messages (agency, ref, event_id, receipt_no, kind,
           procedure, phone, source, text, priority, state, reason, segments,
           concat_ref, not_before, expires_at, created_at, updated_at, digest)
           VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
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
                m.state.value,
                m.reason,
                m.segments,
                m.concat_ref,
                m.not_before,
                m.expires_at,
                now,
                now,
                m.digest,
            )
            for m in messages
        ],
    )
    payloads = [
        (
            m.agency,
            status_payload(
                ref=m.ref,
                event_id=m.event_id,
                receipt_no=m.receipt_no,
                kind=m.kind,
                phone=m.phone,
                state=m.state,
                reason=m.reason,
                segments=m.segments,
                at=now,
            ),
        )
        for m in messages
    ]
    payloads += [(agency, encode(event)) for agency, event in statuses]
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
            (o.state.value, o.reason, now, o.segments, o.attempts, o.not_before, o.message.id)
            for o in outcomes
        ],
    )
    db.executemany(
        "INSERT INTO status_out (agency, payload) VALUES (?, ?)",
        [
            (o.message.agency, _status_of(o.message, o.state, o.reason, o.segments, now))
            for o in outcomes
            if o.state is not MessageState.QUEUED
        ],
    )
    # Receipts that overtook their submit_sm_resp can be applied now.
    store_receipts.apply_early_receipts(db, [k for p in parts for k in p.keys], now)


def _sweep_receipts(db: sqlite3.Connection, timeout: float, limit: int, now: float) -> int:
    store_receipts.forget_early_receipts(db, now)
    return store_receipts.expire_unreceipted(db, now - timeout, now, limit)


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
        f"""UPDATE messages SET phone = NULL, text = NULL, digest = NULL
            WHERE updated_at < ? AND state IN ({finals})
              AND (phone IS NOT NULL OR text IS NOT NULL OR digest IS NOT NULL)""",
        (before,),
    ).rowcount
    db.execute(
        "UPDATE events SET digest = NULL WHERE received_at < ? AND digest IS NOT NULL",
        (before,),
    )
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
    existing = _digests(db, "messages", "ref", [(m.agency, m.ref) for m in messages])
    fresh = [m for m in messages if (m.agency, m.ref) not in existing]
    _record_intake(db, [], [], fresh, [], now)
    db.execute(
        "INSERT OR REPLACE INTO apology_runs VALUES (?, ?, ?, ?)",
        (run_day, due_date, len(fresh), now),
    )
    return len(fresh)


def _status_of(
    m: Queued, state: MessageState, reason: str | None, segments: int | None, at: float
) -> str:
    return status_payload(
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
        d.notice_owed,
    )
