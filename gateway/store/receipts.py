"""Delivery receipts in the store: parts, the receipts that overtook them, and expiry.

Four rules live here, each once:

- **More final wins, and the first final answer stays.** A part's state only moves
  towards the final (`domain.states.PART_FOLLOWS`): a late ENROUTE never undoes DELIVRD, and
  of ACCEPTD, DELIVRD, UNDELIV for one id the DELIVRD stands, whether they came after the
  submit outcome was committed or overtook it.
- **One receipt, the best candidate.** A receipt's id can match several parts (a hex
  counter's `0A` and `10` both read as 10; carriers reuse ids):
  `best_candidate` picks one.
- **Early receipts are short-lived.** A receipt that matches no part, or only parts
  final for longer than `EARLY_RECEIPT_TTL`, is kept that long for its submit outcome to
  commit, then forgotten: carriers reuse ids, and a months-old UNDELIV for id `1234` must
  not settle a new message that happens to get id `1234`.
- **No receipt for ever is an answer too.** A message still `submitted` after
  `smpp.receipt_timeout` becomes `expired`, "no delivery receipt", and says so on its
  status topic (`expire_unreceipted`, an indexed query run by a periodic sweep).

Every function runs inside the caller's transaction, in the store's thread; `Receipts`,
at the end, is the repository the tracker calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from gateway.domain.channel import Channel
from gateway.domain.message import ReceiptUpdate
from gateway.domain.states import MessageState, PartState, settled_by_parts
from gateway.domain.status_event import status_payload
from gateway.smpp.receipt import exact_key
from gateway.store import statuses
from gateway.store.database import Connection, Database
from gateway.store.database import marks as _marks

# Only a message sent whole and waiting for its receipts is settled by them, or expired
# when they never come: a queued message with some parts out is still being sent.
AWAITING_RECEIPT = MessageState.SUBMITTED
EXPIRED = MessageState.EXPIRED

# Seconds a receipt that matches no part waits for its submit outcome to be committed.
EARLY_RECEIPT_TTL = 600.0

NO_RECEIPT = "no delivery receipt"

# The sweep's query, held to the partial index messages_submitted: without the hint the
# planner may take messages_state (state, created_at) and read every submitted message.
SUBMITTED_BEFORE = f"""SELECT id, agency, ref, event_id, receipt_no, kind, phone, segments, link
    FROM messages INDEXED BY messages_submitted
    WHERE state = '{AWAITING_RECEIPT.value}' AND updated_at < ? AND channel = 'sms'{{not_on}}
    ORDER BY updated_at LIMIT ?"""
# Leaving out the messages of the links named (receipts cannot come while a link is
# down): still on the index by submission time, the link read from each old row.
NOT_ON = " AND (link IS NULL OR link NOT IN ({marks}))"

# The parts a batch of receipts' keys find, by index: part_keys by key, then each part
# and its message by primary key.
CANDIDATES = """SELECT k.key, k.rowid, k.message_id, k.seq, p.state, m.updated_at
    FROM part_keys k INDEXED BY part_keys_key
    JOIN parts p ON p.message_id = k.message_id AND p.seq = k.seq
    JOIN messages m ON m.id = k.message_id
    WHERE k.key IN ({marks})"""


def record_receipts(db: Connection, receipts: Sequence[ReceiptUpdate], now: float) -> None:
    """Apply receipts; keep the ones that match no part yet, for EARLY_RECEIPT_TTL."""
    unmatched = apply_receipts(db, receipts, now)
    db.executemany(
        "INSERT INTO early_receipts (key, rid, state, error, at) VALUES (?, ?, ?, ?, ?)",
        [(k, _rid(keys), state, error, now) for keys, state, error in unmatched for k in keys],
    )


def _rid(keys: frozenset[str]) -> str:
    """What groups the receipts of one id: its id string as written. (The smallest key
    would join "0000000A" and "00000010", which share the reading n:10.)"""
    return exact_key(keys) or min(keys)


def apply_early_receipts(db: Connection, keys: Sequence[str], now: float) -> None:
    """Receipts that overtook the submit outcome now being recorded (under `keys`): the
    most final one of each id is applied, and forgotten once it settled a part."""
    if not keys:
        return
    early = db.execute(
        f"""SELECT rid, state, error FROM early_receipts
            WHERE rid IN (SELECT rid FROM early_receipts WHERE key IN ({_marks(keys)}))
              AND at >= ?
            ORDER BY rowid""",
        [*keys, now - EARLY_RECEIPT_TTL],
    ).fetchall()
    if not early:
        return
    best: dict[str, tuple[str, str | None]] = {}
    for rid, state, error in early:
        held = best.get(rid)
        if held is None or PartState(held[0]).outranked_by(PartState(state)):
            best[rid] = (state, error)
    keys_of: dict[str, set[str]] = {rid: set() for rid in best}
    for key, rid in db.execute(
        f"SELECT key, rid FROM early_receipts WHERE rid IN ({_marks(list(best))})", list(best)
    ):
        keys_of[rid].add(key)
    updates = {rid: (frozenset(keys_of[rid]), st, err) for rid, (st, err) in best.items()}
    # The same id string first: under a hex counter "0000000A" and "00000010" share a
    # reading, and each receipt belongs to the part written as it is.
    recorded = set(keys)
    exact = [rid for rid, (ks, _, _) in updates.items() if exact_key(ks) in recorded]
    apply_receipts(db, [updates[rid] for rid in exact], now)
    # The others only onto a part still waiting; one that settles nothing is kept for the
    # submit it belongs to (until EARLY_RECEIPT_TTL), not forgotten.
    others = [updates[rid] for rid in updates if rid not in exact]
    kept = {ks for ks, _, _ in apply_receipts(db, others, now, waiting_only=True)}
    done = [rid for rid, (ks, _, _) in updates.items() if ks not in kept]
    db.executemany("DELETE FROM early_receipts WHERE rid = ?", [(rid,) for rid in done])


def apply_receipts(
    db: Connection,
    receipts: Sequence[ReceiptUpdate],
    now: float,
    *,
    waiting_only: bool = False,
) -> list[ReceiptUpdate]:
    """Set-based: a handful of statements per batch, whatever its size. Returns the
    receipts that match no part, or only parts final for longer than EARLY_RECEIPT_TTL
    (with `waiting_only`, any final part): the caller keeps them for a submit outcome
    still to be committed under their id."""
    keys = sorted({k for ks, _, _ in receipts for k in ks})
    where: dict[str, list[Candidate]] = {}
    for key, order, message_id, seq, state, updated_at in db.execute(
        CANDIDATES.format(marks=_marks(keys)), keys
    ):
        where.setdefault(key, []).append(
            Candidate(order, (message_id, seq), PartState(state), updated_at)
        )
    unmatched: list[ReceiptUpdate] = []
    part_state: dict[tuple[int, int], PartState] = {}
    errors: dict[int, str] = {}
    for ks, state, error in receipts:
        new = PartState(state)
        found = best_candidate(ks, where, part_state, now - EARLY_RECEIPT_TTL)
        if found is None:
            unmatched.append((ks, state, error))
            continue
        part, current = found
        if waiting_only and part_state.get(part, current).is_final:
            unmatched.append((ks, state, error))
            continue
        if not current.outranked_by(new):
            continue  # a late "still trying", or a second final answer
        part_state[part] = new
        if error and new.is_final:
            errors[part[0]] = error
    if not part_state:
        return unmatched
    # The stored state is only replaced by one it gives way to.
    for new in set(part_state.values()):
        weaker = [s.value for s in PartState if s.outranked_by(new)]
        db.executemany(
            f"""UPDATE parts SET state = ? WHERE message_id = ? AND seq = ?
                AND state IN ({_marks(weaker)})""",
            [(new.value, mid, seq, *weaker) for (mid, seq), st in part_state.items() if st is new],
        )
    settle(db, sorted({mid for mid, _ in part_state}), errors, now)
    return unmatched


class Candidate(NamedTuple):
    """A part a receipt's keys found: `order` is when its key was stored (later: newer)."""

    order: int
    part: tuple[int, int]
    state: PartState
    updated_at: float  # of its message: when it was submitted, or settled


def best_candidate(
    keys: frozenset[str],
    where: Mapping[str, Sequence[Candidate]],
    changed: Mapping[tuple[int, int], PartState],
    final_since: float,
) -> tuple[tuple[int, int], PartState] | None:
    """The part a receipt under `keys` is about, with its current state; None when there
    is none to credit.

    In order: a part whose id is the same string (`exact_key`) before one found only by
    another hex/decimal reading of it; a part still waiting for its receipt before one
    already final; the part submitted last. Parts final since before `final_since` are no
    candidates at all: a receipt for a reused id can overtake the new message's submit
    outcome, and must wait for it as an early receipt rather than be spent on the old
    message. `changed` holds the states this batch gave parts, which count as just settled.
    """
    exact = exact_key(keys)
    best: tuple[tuple[bool, bool, int], tuple[int, int], PartState] | None = None
    for key in keys:
        for order, part, stored, updated_at in where.get(key, ()):
            current = changed.get(part, stored)
            if current.is_final and part not in changed and updated_at < final_since:
                continue
            rank = (key == exact, not current.is_final, order)
            if best is None or rank > best[0]:
                best = (rank, part, current)
    return None if best is None else (best[1], best[2])


def settle(
    db: Connection, ids: Sequence[int], errors: Mapping[int, str], now: float
) -> None:
    """A message is delivered when all its parts are; any final failure decides it."""
    rows = db.execute(
        f"""SELECT m.id, m.state, m.segments, m.agency, m.ref, m.event_id, m.receipt_no,
                   m.kind, m.phone, m.link, {db.dialect.joined("p.state", ",")}
            FROM messages m JOIN parts p ON p.message_id = m.id
            WHERE m.id IN ({_marks(ids)}) GROUP BY m.id""",
        ids,
    ).fetchall()
    settled: list[tuple[str, str | None, float, int]] = []
    payloads: list[tuple[str, str]] = []
    for mid, state, segments, agency, ref, event_id, receipt_no, kind, phone, link, states in rows:
        if MessageState(state) is not AWAITING_RECEIPT:
            continue
        final = settled_by_parts([PartState(p) for p in states.split(",")], segments)
        if final is None:
            continue
        reason = None if final is MessageState.DELIVERED else (errors.get(mid) or final.value)
        settled.append((final.value, reason, now, mid))
        payloads.append(
            (
                agency,
                _status(ref, event_id, receipt_no, kind, phone, final, reason, segments, now, link),
            )
        )
    db.executemany(
        "UPDATE messages SET state = ?, reason = ?, updated_at = ? WHERE id = ?", settled
    )
    statuses.insert(db, payloads)


def expire_unreceipted(
    db: Connection,
    submitted_before: float,
    now: float,
    limit: int,
    paused: Sequence[str] = (),
) -> int:
    """Messages submitted before `submitted_before` and still without a final receipt
    become `expired`, "no delivery receipt", with their status; at most `limit` of them,
    none sent by a link in `paused`.

    `updated_at` of a `submitted` message is when it became submitted: nothing else
    writes a message in that state (receipts write its parts until one settles it).
    """
    not_on = NOT_ON.format(marks=_marks(paused)) if paused else ""
    query = SUBMITTED_BEFORE.format(not_on=not_on)
    rows = db.execute(query, (submitted_before, *paused, limit)).fetchall()
    db.executemany(
        f"UPDATE messages SET state = '{EXPIRED.value}', reason = ?, updated_at = ? WHERE id = ?",
        [(NO_RECEIPT, now, r[0]) for r in rows],
    )
    statuses.insert(
        db,
        [
            (agency, _status(ref, event, receipt, kind, phone, EXPIRED, NO_RECEIPT, seg, now, link))
            for _, agency, ref, event, receipt, kind, phone, seg, link in rows
        ],
    )
    return len(rows)


def forget_early_receipts(db: Connection, now: float) -> int:
    """Drop receipts that matched nothing within EARLY_RECEIPT_TTL."""
    return db.execute(
        "DELETE FROM early_receipts WHERE at < ?", (now - EARLY_RECEIPT_TTL,)
    ).rowcount


def _status(
    ref: str,
    event_id: str | None,
    receipt_no: str | None,
    kind: str,
    phone: str | None,
    state: MessageState,
    reason: str | None,
    segments: int,
    at: float,
    link: str | None = None,
) -> str:
    return status_payload(
        ref=ref,
        event_id=event_id,
        receipt_no=receipt_no,
        kind=kind,
        phone=phone,
        state=state,
        reason=reason,
        segments=segments,
        at=at,
        link=link,
        channel=Channel.SMS,  # receipts come from the SMSC links only
    )


class Receipts:
    """What the receipt tracker asks of the store."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record_receipts(self, receipts: Sequence[ReceiptUpdate]) -> None:
        """Apply (keys, state, error) receipts; one whose part is not known yet is kept
        until its submit_sm_resp has been recorded (receipts can overtake responses)."""
        batch = [r for r in receipts if r[0]]
        if not batch:
            return
        await self._db.write(record_receipts, batch, self._db.clock())
        self._db.status_added.set()

    async def expire_unreceipted(
        self, timeout: float, *, limit: int = 1000, paused: Sequence[str] = ()
    ) -> int:
        """Messages submitted over `timeout` seconds ago with no final receipt become
        `expired` ("no delivery receipt"), at most `limit` in one transaction, except
        those of the links in `paused` (their receipts cannot come now); receipts that
        have waited too long for their part are forgotten. Returns how many expired."""
        expired = await self._db.write(
            _sweep, timeout, limit, self._db.clock(), tuple(sorted(paused))
        )
        if expired:
            self._db.status_added.set()
        return expired


def _sweep(
    db: Connection, timeout: float, limit: int, now: float, paused: Sequence[str]
) -> int:
    forget_early_receipts(db, now)
    return expire_unreceipted(db, now - timeout, now, limit, paused)
