"""The dossier mirror and intake's commits: events seen, dossiers as last reported, and
the notices and statuses they caused, each batch in one transaction (group commit)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from gateway.domain.dossier import DossierKey, DossierRow
from gateway.domain.letter import NewLetter
from gateway.domain.message import NewMessage
from gateway.domain.status_event import encode
from gateway.store import statuses as status_outbox
from gateway.store.database import Connection, Database, digests, marks, rows
from gateway.store.dialect import Dialect
from gateway.store.emails import copied, insert_letters
from gateway.store.outbox import insert_messages, queues_a_reply, queues_any

# An event as intake records it: (event id, agency, receipt key, applied, digest).
EventRecord = tuple[str, str, str, bool, str | None]


class Dossiers:
    """What intake and MCKH lookups ask of the mirror."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def event_digests(
        self, events: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], str | None]:
        """The content digest of each (agency, event id) already recorded (None once
        purged, or for an event recorded before digests were kept)."""
        return await self._db.read(digests, "events", "event_id", events)

    async def dossiers(self, keys: Sequence[DossierKey]) -> dict[DossierKey, DossierRow]:
        """The mirror's rows under (agency, receipt key): a receipt number is unique
        within one agency only, so another agency's dossier of that number is not it."""
        wanted = set(keys)
        found = await self.lookup(sorted({receipt for _, receipt in wanted}))
        return {row.key: row for held in found.values() for row in held if row.key in wanted}

    async def copied(
        self, notices: Sequence[tuple[str, str, str]]
    ) -> set[tuple[str, str, str]]:
        """Which of the (agency, receipt number, kind) notices already have an e-mail
        copy: a notice sent again once its number was fixed gets no second one."""
        if not notices:
            return set()
        return await self._db.read(copied, list(notices))

    async def dossier(self, agency: str, receipt_key: str) -> DossierRow | None:
        return (await self.dossiers([(agency, receipt_key)])).get((agency, receipt_key))

    async def lookup(self, receipt_keys: Sequence[str]) -> dict[str, list[DossierRow]]:
        """Every agency's dossier under each receipt key, in agency order (MCKH)."""
        if not receipt_keys:
            return {}
        held = await self._db.read(
            rows,
            f"""SELECT {COLUMNS} FROM dossiers WHERE receipt_key IN ({marks(receipt_keys)})
                ORDER BY receipt_key, agency""",
            receipt_keys,
        )
        found: dict[str, list[DossierRow]] = {}
        for row in held:
            found.setdefault(row[0], []).append(dossier_row(row))
        return found

    async def record_intake(
        self,
        *,
        events: Iterable[EventRecord] = (),
        dossiers: Iterable[DossierRow] = (),
        messages: Iterable[NewMessage] = (),
        statuses: Iterable[tuple[str, Mapping[str, Any]]] = (),
        letters: Iterable[NewLetter] = (),
    ) -> None:
        """Commit one batch of intake effects in one transaction (group commit):
        `dossiers` are the mirror's rows in the order it made them, several of one
        dossier when several of its events came in the batch (the last is what it holds
        now; the figures count each change, `figures_schema`); `statuses` are (agency,
        `status_event`) of what was refused before it became a message; `letters` the
        e-mail copies of the batch's notices and jobs."""
        messages = list(messages)
        statuses = list(statuses)
        letters = list(letters)
        await self._db.write(
            record_intake,
            list(events),
            list(dossiers),
            messages,
            statuses,
            self._db.clock(),
            letters,
        )
        if messages or statuses or letters:
            self._db.status_added.set()
        if queues_any(messages):
            self._db.queued_added.set()
        if queues_a_reply(messages):
            self._db.reply_added.set()


# The mirror's columns, in DossierRow's order (PostgreSQL's table has its `row_id` too).
_NAMES = ("receipt_key", "receipt_no", "agency", "procedure", "procedure_code", "phone",
          "step", "status", "due_date", "same_day", "occurred_at", "finished_on",
          "notice_owed")  # fmt: skip
COLUMNS = ", ".join(_NAMES)
# A dossier's row as it is now, whether the mirror held it or not (the figures' trigger
# sees the row held before it is written). An event older than the row held changes
# nothing: with shared intake, two daemons may decide one dossier's events side by side,
# and the one that read the mirror before the other's newer event was written must not
# write its older state over it.
_KEY = ("receipt_key", "agency")


@lru_cache(maxsize=2)
def write_dossier(dialect: Dialect) -> str:
    """The mirror's upsert, in `dialect` (the events' times compared as instants)."""

    def at(row: str) -> str:
        return f"CAST({dialect.epoch_or_now(f'{row}.occurred_at')} AS BIGINT)"

    return f"""INSERT INTO dossiers ({COLUMNS}) VALUES ({", ".join("?" * len(_NAMES))})
    ON CONFLICT ({", ".join(_KEY)}) DO UPDATE SET
    {", ".join(f"{n} = excluded.{n}" for n in _NAMES if n not in _KEY)}
    WHERE {at("excluded")} >= {at("dossiers")}"""


def record_intake(
    db: Connection,
    events: Sequence[EventRecord],
    dossiers: Sequence[DossierRow],
    messages: Sequence[NewMessage],
    statuses: Sequence[tuple[str, Mapping[str, Any]]],
    now: float,
    letters: Sequence[NewLetter] = (),
) -> int:
    """Intake's batch, inside the caller's transaction; returns how many of `messages`
    were new (a ref already held is left alone)."""
    db.executemany(
        """INSERT INTO events (event_id, agency, receipt_key, applied, received_at,
           digest) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (agency, event_id) DO NOTHING""",
        [(e, a, k, int(applied), now, d) for e, a, k, applied, d in events],
    )
    db.executemany(
        write_dossier(db.dialect),
        [_dossier_tuple(d) for d in dossiers],
    )
    payloads = insert_messages(db, messages, now)
    inserted = len(payloads)
    payloads += [(agency, encode(event)) for agency, event in statuses]
    status_outbox.insert(db, payloads)
    insert_letters(db, letters, now)
    return inserted


def dossier_row(row: Sequence[Any]) -> DossierRow:
    """A `SELECT {COLUMNS} FROM dossiers` row as the domain's type."""
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
