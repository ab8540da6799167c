"""What Zalo tells the store of the notices it carries: a delivery reported by its
webhook, and the fallback timer that hands an unconfirmed notice to SMS.

A Zalo notice is `submitted` once Zalo accepted it, with `fallback_at` set: the timer is
a column, so a restart neither loses it nor runs it twice (the sweep's update takes a
message only while it is still submitted by Zalo). A notice is delivered when any
channel delivered it: Zalo's receipt settles a notice that is not final yet, on Zalo or
handed to SMS, its SMS waiting (no SMS goes then) or already out (its receipt is then
moot; `figures_schema` still counts the SMS's parts, paid for). A notice already final
keeps its state: the receipt is late, and only logged.

A notice's request to Zalo is marked before it goes (`sending`: `fallback_at` set while it
is still queued), and the mark is cleared by whatever the sender records of it. A mark
found when the sender starts (`unanswered_at_start`) is a request sent and never heard the
end of (the daemon killed, or stopped mid-request): Zalo may have the notice, so it is not
sent again but waits, `submitted`, for its receipt or its fallback timer.

The tracking id given to Zalo is the message's id with a check of its agency and ref
(`tracking_id`), so that a receipt for a message of a store restored from an old copy, or
an id reused after a purge, cannot settle another citizen's notice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from enum import StrEnum

from gateway.domain.channel import Channel
from gateway.domain.states import MessageState
from gateway.domain.status_event import status_payload
from gateway.store import statuses
from gateway.store.claims import ALONE, CLAIMABLE, LIVE, Claimant
from gateway.store.database import Connection, Database
from gateway.store.leases import Job

_ZALO = Channel.ZALO.value
_SMS = Channel.SMS.value

# What a fallback writes as the reason of the SMS's `queued` status.
NO_RECEIPT_WITHIN = "zalo: no receipt within {seconds:g} s"
ZALO_OFF = "zalo: not configured"


def tracking_id(message_id: int, agency: str, ref: str) -> str:
    """Our id for a message sent by Zalo (ZNS allows 48 characters)."""
    check = hashlib.sha1(f"{agency}/{ref}".encode()).hexdigest()[:12]
    return f"{message_id}-{check}"


def message_of(tracking: str) -> int | None:
    """The message id a tracking id names, None for one we never made."""
    head, _, check = tracking.partition("-")
    if not head.isdigit() or len(check) != 12 or len(head) > 18:
        return None
    return int(head)


class Delivery(StrEnum):
    """What a Zalo delivery receipt did."""

    DELIVERED = "delivered"  # it settled the notice
    UNKNOWN = "unknown"  # no notice of ours has that tracking id
    LATE = "late"  # the notice went on to SMS, or was settled, before it came


_SELECT = """SELECT agency, ref, event_id, receipt_no, kind, phone, segments, state,
       channel_id, zns IS NOT NULL FROM messages WHERE id = ?"""
_COLUMNS = "id, agency, ref, event_id, receipt_no, kind, phone, segments"


class ZaloBook:
    """The Zalo side's writes beside the sender's outcomes."""

    def __init__(self, db: Database, claimant: Claimant = ALONE) -> None:
        self._db = db
        self._me = claimant

    async def delivered(self, tracking: str, msg_id: str | None) -> Delivery:
        """Zalo reports the notice `tracking` received by the user."""
        found = await self._db.write(_delivered, tracking, msg_id, self._db.clock())
        if found is Delivery.DELIVERED:
            self._db.status_added.set()
        return found

    async def fall_back(self, fallback_after: float, *, limit: int = 1000) -> int:
        """Notices Zalo accepted but has not confirmed by their `fallback_at` go by SMS;
        returns how many did."""
        reason = NO_RECEIPT_WITHIN.format(seconds=fallback_after)
        moved = await self._db.write(_fall_back_due, self._db.clock(), reason, limit)
        self._moved(moved)
        return moved

    async def sending(self, ids: Sequence[int], fallback_after: float) -> None:
        """The notices `ids` are about to go to Zalo: marked, so that a daemon killed
        before their answer is recorded does not send them again."""
        if ids:
            await self._db.write(_mark_sending, ids, self._db.clock() + fallback_after)

    async def unanswered_at_start(self, *, limit: int = 1000) -> int:
        """Notices whose request went before the sender last stopped, answer unrecorded,
        wait for their receipt (`submitted`, timer running); returns how many. The sender
        asks as it starts, before it sends anything. Only its own (claimed under its name,
        in its previous life) and those of daemons not seen within the lease: another live
        daemon's are under way."""
        moved = await self._db.write(
            _unanswered, self._db.clock(), self._me, True, limit, self._db.lease_clock()
        )
        if moved:
            self._db.status_added.set()
        return moved

    async def orphaned(self, *, limit: int = 1000) -> int:
        """The same for notices of daemons that died with their request to Zalo under way
        (not seen within the lease): they wait for their receipt, never go to Zalo again.
        Run with the fallback timer, on the daemon that holds its lease."""
        moved = await self._db.write(
            _unanswered, self._db.clock(), self._me, False, limit, self._db.lease_clock()
        )
        if moved:
            self._db.status_added.set()
        return moved

    async def fall_back_all(self, *, limit: int = 1000) -> int:
        """Zalo is not configured here: every notice still on it goes by SMS, and chat
        replies, which only Zalo can carry, fail. Returns how many messages were moved.
        Not those another live daemon has claimed (it is sending them), and none while
        another daemon holds Zalo's fallback timer (Zalo is configured there: its sender
        and its timer carry them)."""
        moved = await self._db.write(
            _fall_back_all, self._db.clock(), self._me, limit, self._db.lease_clock()
        )
        self._moved(moved)
        return moved

    def _moved(self, moved: int) -> None:
        if moved:
            self._db.status_added.set()
            self._db.queued_added.set()


def _status(
    row: Sequence, state: MessageState, reason: str | None, now: float, channel: str
) -> str:
    _, _agency, ref, event_id, receipt_no, kind, phone, segments = row[:8]
    return status_payload(
        ref=ref,
        event_id=event_id,
        receipt_no=receipt_no,
        kind=kind,
        phone=phone,
        state=state,
        reason=reason,
        segments=segments,
        at=now,
        channel=channel,
    )


def _delivered(db: Connection, tracking: str, msg_id: str | None, now: float) -> Delivery:
    mid = message_of(tracking)
    row = None if mid is None else db.execute(_SELECT, (mid,)).fetchone()
    if row is None or tracking_id(mid, row[0], row[1]) != tracking:  # type: ignore[arg-type]
        return Delivery.UNKNOWN
    agency, ref, event_id, receipt_no, kind, phone, segments, state, known, by_zalo = row
    if msg_id is not None and known is not None and known != msg_id:
        return Delivery.UNKNOWN
    if not by_zalo:
        return Delivery.UNKNOWN  # never a Zalo notice: no receipt of Zalo's is about it
    if MessageState(state).is_final:
        return Delivery.LATE
    db.execute(
        f"""UPDATE messages SET state = 'delivered', reason = NULL, updated_at = ?,
               fallback_at = NULL, channel_id = COALESCE(channel_id, ?), channel = '{_ZALO}'
           WHERE id = ?""",
        (now, msg_id, mid),
    )
    statuses.insert(
        db,
        [
            (
                agency,
                _status(
                    (mid, agency, ref, event_id, receipt_no, kind, phone, segments),
                    MessageState.DELIVERED,
                    None,
                    now,
                    _ZALO,
                ),
            )
        ],
    )
    return Delivery.DELIVERED


def _to_sms(db: Connection, found: Sequence[Sequence], reason: str, now: float) -> None:
    db.executemany(
        f"""UPDATE messages SET channel = '{_SMS}', state = 'queued', reason = ?,
               attempts = 0, not_before = ?, fallback_at = NULL, updated_at = ?,
               claimed_by = NULL
           WHERE id = ?""",
        [(reason, now, now, r[0]) for r in found],
    )
    statuses.insert(db, [(r[1], _status(r, MessageState.QUEUED, reason, now, _SMS)) for r in found])


def _fall_back_due(db: Connection, now: float, reason: str, limit: int) -> int:
    found = db.execute(
        f"""SELECT {_COLUMNS} FROM messages INDEXED BY messages_fallback
            WHERE state = 'submitted' AND fallback_at IS NOT NULL AND fallback_at <= ?
              AND channel = '{_ZALO}'
            ORDER BY fallback_at LIMIT ?""",
        (now, limit),
    ).fetchall()
    _to_sms(db, found, reason, now)
    return len(found)


def _fall_back_all(
    db: Connection, now: float, me: Claimant, limit: int, seen_now: float
) -> int:
    """`seen_now` is the time daemons and leases are judged by (the server's)."""
    if db.execute(
        "SELECT 1 FROM leases WHERE name = ? AND holder != ? AND until >= ?",
        (Job.ZALO_FALLBACK.value, me.name, seen_now),
    ).fetchone():
        return 0
    found = db.execute(
        f"""SELECT {_COLUMNS}, chat_user FROM messages
            WHERE channel = '{_ZALO}' AND state IN ('queued', 'submitted') AND {CLAIMABLE}
            LIMIT ?""",
        (*me.params(seen_now), limit),
    ).fetchall()
    notices = [r for r in found if r[8] is None]
    replies = [r for r in found if r[8] is not None]
    _to_sms(db, notices, ZALO_OFF, now)
    db.executemany(
        "UPDATE messages SET state = 'failed', reason = ?, updated_at = ? WHERE id = ?",
        [(ZALO_OFF, now, r[0]) for r in replies],
    )
    statuses.insert(
        db, [(r[1], _status(r, MessageState.FAILED, ZALO_OFF, now, _ZALO)) for r in replies]
    )
    return len(found)


def _mark_sending(db: Connection, ids: Sequence[int], at: float) -> None:
    db.executemany(
        f"""UPDATE messages SET fallback_at = ?
           WHERE id = ? AND state = 'queued' AND channel = '{_ZALO}' AND chat_user IS NULL""",
        [(at, i) for i in ids],
    )


def _unanswered(
    db: Connection, now: float, me: Claimant, own: bool, limit: int, seen_now: float
) -> int:
    # `own`: at start, this name's claims are a previous life's; later they are under way.
    whose = CLAIMABLE if own else f"claimed_by IS NOT NULL AND claimed_by NOT IN ({LIVE})"
    found = db.execute(
        f"""SELECT {_COLUMNS} FROM messages INDEXED BY messages_queue
            WHERE state = 'queued' AND channel = '{_ZALO}' AND fallback_at IS NOT NULL
              AND {whose}
            LIMIT ?""",
        (*(me.params(seen_now) if own else (seen_now - me.lease,)), limit),
    ).fetchall()
    db.executemany(
        "UPDATE messages SET state = 'submitted', reason = NULL, updated_at = ? WHERE id = ?",
        [(now, r[0]) for r in found],
    )
    statuses.insert(
        db, [(r[1], _status(r, MessageState.SUBMITTED, None, now, _ZALO)) for r in found]
    )
    return len(found)
