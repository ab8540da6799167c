"""The letters: e-mail copies of notices, from queued to delivered or failed.

New letters go in with the notice they copy, inside intake's transaction
(`insert_letters`); the mail sender takes the due ones (`Letters.due`) and commits what
each send did (`Letters.record`). A letter's statuses are published with `channel:
email` and its own states; only its final ones (and a refusal at intake) are published,
since a letter is a copy and the agency follows the notice itself by its other statuses.
Its `to` is the address masked (`gateway.mail.address.mask_address`), its `id` the notice's
with `:email` after it (`COPY_SUFFIX`).
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.domain.channel import Channel
from gateway.domain.letter import LetterOutcome, NewLetter, QueuedLetter
from gateway.domain.states import MessageState
from gateway.domain.status_event import encode, status_event
from gateway.mail.address import mask_address
from gateway.store import statuses
from gateway.store.claims import ALONE, CLAIMABLE, Claimant, Tenure
from gateway.store.database import Connection, Database, marks, rows

# A copy's statuses go under the notice's id with this suffix: an agency that follows a
# message by the last status of its id reads the notice by its own statuses, and the copy
# by its own (a refused address never reads as the notice refused).
COPY_SUFFIX = ":email"

_INSERT = """INSERT INTO emails (agency, ref, event_id, receipt_no, kind, procedure,
    address, sender, subject, body, qr, state, reason, not_before, expires_at, created_at,
    updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
    ON CONFLICT (agency, ref) DO NOTHING"""


def _status(
    x: NewLetter | QueuedLetter, state: MessageState, reason: str | None, now: float
) -> str:
    ref, event_id, receipt_no, kind, address = x.ref, x.event_id, x.receipt_no, x.kind, x.address
    event = status_event(
        ref=f"{ref}{COPY_SUFFIX}",
        event_id=event_id,
        receipt_no=receipt_no,
        kind=kind,
        phone=None,
        state=state,
        reason=reason,
        segments=0,
        at=now,
        channel=Channel.EMAIL,
    )
    event["to"] = mask_address(address) if address else None
    return encode(event)


def insert_letters(db: Connection, letters: Sequence[NewLetter], now: float) -> None:
    """Insert new letters (a ref already there is left alone) inside the caller's
    transaction, with the status of those refused at intake."""
    fresh: list[NewLetter] = []
    for x in letters:
        inserted = db.execute(
            _INSERT,
            (
                x.agency, x.ref, x.event_id, x.receipt_no, x.kind, x.procedure, x.address,
                x.sender, x.subject, x.body, x.qr, x.state.value, x.reason, x.not_before,
                x.expires_at, now, now,
            ),
        ).rowcount  # fmt: skip
        if inserted:
            fresh.append(x)
    statuses.insert(
        db,
        [
            (x.agency, _status(x, x.state, x.reason, now))
            for x in fresh
            if x.state is MessageState.REJECTED
        ],
    )


def copied(
    db: Connection, notices: Sequence[tuple[str, str, str]]
) -> set[tuple[str, str, str]]:
    """The (agency, receipt number, kind) of `notices` (each owed, refused for its number)
    whose last refused notice has its e-mail copy: the refusal of this episode, not an
    earlier request of the same kind, which had its own."""
    found: set[tuple[str, str, str]] = set()
    for agency, receipt_no, kind in notices:
        row = db.execute(
            """SELECT 1 FROM emails
               WHERE agency = ? AND state != 'rejected' AND ref = (
                   SELECT ref FROM messages INDEXED BY messages_refused
                   WHERE agency = ? AND receipt_no = ? AND kind = ? AND state = 'rejected'
                   ORDER BY id DESC LIMIT 1)""",
            (agency, agency, receipt_no, kind),
        ).fetchone()
        if row is not None:
            found.add((agency, receipt_no, kind))
    return found


class Letters:
    """What the mail sender asks of the letters."""

    def __init__(
        self, db: Database, claimant: Claimant = ALONE, tenure: Tenure | None = None
    ) -> None:
        self._db = db
        self._me = claimant
        # Whether this daemon's claims are still its own (renewed by its heartbeat).
        self.tenure = tenure or Tenure(claimant.lease)

    async def due(self, limit: int, exclude: Sequence[int] = ()) -> list[QueuedLetter]:
        """Queued letters whose time has come, oldest first, claimed by this daemon
        (`gateway.store.claims`)."""
        return await self._db.write(
            _due, limit, list(exclude), self._db.clock(), self._me, self._db.lease_clock()
        )

    async def next_due_at(self, exclude: Sequence[int] = ()) -> float | None:
        """When the next queued letter is due, leaving out `exclude` (the ones in flight,
        which stay queued until their outcome is recorded: without this, a letter being
        sent reads as due at once, and the sender asks again and again), and the ones
        another live daemon has claimed, for the same reason."""
        skip = list(exclude)
        others = f"AND id NOT IN ({marks(skip)})" if skip else ""
        found = await self._db.read(
            rows,
            f"SELECT MIN(not_before) FROM emails WHERE state = 'queued' {others} AND {CLAIMABLE}",
            [*skip, *self._me.params(self._db.lease_clock())],
        )
        return found[0][0] if found else None

    async def record(self, outcomes: Sequence[LetterOutcome]) -> None:
        """Commit what the mail sender did with a batch of letters, in one transaction."""
        if outcomes:
            await self._db.write(_record, outcomes, self._db.clock(), self._me.name)
            self._db.status_added.set()


def _due(
    db: Connection, limit: int, skip: list[int], now: float, me: Claimant, seen_now: float
) -> list[QueuedLetter]:
    others = f"AND id NOT IN ({marks(skip)})" if skip else ""
    found = db.execute(
        f"""SELECT id, agency, ref, kind, address, sender, subject, body, qr, attempts,
                   expires_at, event_id, receipt_no
            FROM emails WHERE state = 'queued' AND not_before <= ? {others} AND {CLAIMABLE}
            ORDER BY not_before, id LIMIT ?""",
        [now, *skip, *me.params(seen_now), limit],
    ).fetchall()
    ids = [r[0] for r in found]
    if ids:
        db.execute(f"UPDATE emails SET claimed_by = ? WHERE id IN ({marks(ids)})", [me.name, *ids])
    return [QueuedLetter(*r) for r in found]


def _record(db: Connection, outcomes: Sequence[LetterOutcome], now: float, me: str) -> None:
    # Only a letter still queued and not another daemon's: one this daemon held through a
    # stall past its lease was taken by another, whose outcome is the letter's.
    update = """UPDATE emails SET state = ?, reason = ?, attempts = ?, not_before = ?,
               updated_at = ?, claimed_by = NULL
           WHERE id = ? AND state = 'queued' AND (claimed_by IS NULL OR claimed_by = ?)"""
    recorded = [
        o
        for o in outcomes
        if db.execute(
            update, (o.state.value, o.reason, o.attempts, o.not_before, now, o.letter.id, me)
        ).rowcount
    ]
    statuses.insert(
        db,
        [
            (o.letter.agency, _status(o.letter, o.state, o.reason, now))
            for o in recorded
            if o.state is not MessageState.QUEUED
        ],
    )
