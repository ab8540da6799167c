"""The outbox: messages and their parts, from queued to sent.

New messages go in with their first status (`insert_messages`, inside the caller's
transaction: intake's, the MO log's, an apology run's); the sender takes the due ones
(`due`) and commits what each attempt did (`record_outcomes`). Health reads the queue
from counters the schema's triggers keep and an index (`queue`, `counts`), never the
whole table.

States in SQL are written from `MessageState`; they stay literals in the statement text
because SQLite uses a partial index (`WHERE state = 'queued'`) only for a query that
spells the same literal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache

from gateway.domain.channel import Channel
from gateway.domain.message import NewMessage, Outcome, Priority, Queued
from gateway.domain.states import WAITING, MessageState
from gateway.domain.status_event import status_payload
from gateway.store import receipts, statuses
from gateway.store.claims import ALONE, CLAIMABLE, Claimant, Tenure
from gateway.store.database import Connection, Database, digests, marks, rows
from gateway.store.dialect import Dialect
from gateway.store.figures_schema import INSERTED_COLUMNS, inserted_keys

QUEUED = MessageState.QUEUED.value
SUBMITTED = MessageState.SUBMITTED.value

# The health queries: run every few seconds and on every scrape, on the store's only
# thread, so each reads a handful of rows whatever the size of the table (a test holds
# them to their query plans).
_WAITING = ", ".join(f"'{state}'" for state in sorted(WAITING))
QUEUE_DEPTH_SQL = f"SELECT COALESCE(SUM(n), 0) FROM message_states WHERE state IN ({_WAITING})"
OLDEST_WAITING_SQL = (
    "SELECT MIN(at) FROM ("
    f"SELECT MIN(created_at) AS at FROM messages WHERE state = '{QUEUED}' UNION ALL "
    f"SELECT MIN(created_at) FROM messages WHERE state = '{SUBMITTED}') AS waiting"
)
COUNTS_SQL = "SELECT state, n FROM message_states WHERE n > 0"


@cache
def insert_messages_sql(d: Dialect) -> str:
    """The INSERT of a new message, its figures' keys with it (`inserted_keys`: four more
    parameters after the row's own)."""
    return f"""INSERT INTO messages (agency, ref, event_id, receipt_no, kind,
           procedure, phone, source, text, priority, state, reason, segments,
           concat_ref, not_before, expires_at, created_at, updated_at, digest, link,
           channel, zns, chat_user, {INSERTED_COLUMNS})
           VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?, {inserted_keys(d)})
           ON CONFLICT (agency, ref) DO NOTHING"""


class Outbox:
    """What the sender and health ask of the messages."""

    def __init__(
        self, db: Database, claimant: Claimant = ALONE, tenure: Tenure | None = None
    ) -> None:
        self._db = db
        self._me = claimant
        # Whether this daemon's claims are still its own (renewed by its heartbeat).
        self.tenure = tenure or Tenure(claimant.lease)
        self.queued_added = db.queued_added  # set by every write that queues a message
        self.reply_added = db.reply_added  # set by every write that queues an MO reply

    async def ref_digests(
        self, refs: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], str | None]:
        """The content digest of the job behind each (agency, ref) that has a message
        (None for a message that is no job, or once purged)."""
        return await self._db.read(digests, "messages", "ref", refs)

    async def due(
        self,
        limit: int,
        exclude: Iterable[int] = (),
        *,
        max_priority: int | None = None,
        channel: Channel = Channel.SMS,
    ) -> list[Queued]:
        """Queued messages of `channel` whose time has come, most urgent first; with
        `max_priority`, only the lanes up to it (inside quiet hours the sender asks for MO
        replies only). Those taken are claimed by this daemon (`gateway.store.claims`): no
        other daemon takes them while it lives."""
        return await self._db.write(
            _due, limit, list(exclude), self._db.clock(), max_priority, channel, self._me,
            self._db.lease_clock(),
        )  # fmt: skip

    async def next_due_at(
        self,
        *,
        max_priority: int | None = None,
        exclude: Iterable[int] = (),
        channel: Channel = Channel.SMS,
    ) -> float | None:
        """When the next queued message of `channel` falls due, leaving out `exclude`
        (those being sent now, still queued in the store: their time has come already) and
        those another live daemon has claimed (its to send: counting them would make this
        sender ask again at once, and again), and a Zalo notice whose request may have gone
        (`not_resent`)."""
        skip = list(exclude)
        lanes = "" if max_priority is None else f" AND {LANES_OR_BEGUN}"
        others = f" AND id NOT IN ({marks(skip)})" if skip else ""
        now = self._db.lease_clock()  # those of daemons alive now
        found = await self._db.read(
            rows,
            f"""SELECT MIN(not_before) FROM messages
                WHERE state = '{QUEUED}' AND channel = ?{lanes}{others}
                  AND {CLAIMABLE} {not_resent(channel)}""",
            [
                channel.value,
                *(() if max_priority is None else (max_priority,)),
                *skip,
                *self._me.params(now),
            ],
        )
        return found[0][0] if found else None

    async def record_outcomes(self, outcomes: Sequence[Outcome]) -> None:
        """Commit what the sender did with a batch of messages, in one transaction."""
        if not outcomes:
            return
        await self._db.write(_record_outcomes, outcomes, self._db.clock(), self._me.name)
        self._db.status_added.set()
        if any(o.state is MessageState.QUEUED for o in outcomes):
            self._db.queued_added.set()
        if any(o.state is MessageState.QUEUED and o.message.priority <= Priority.MO_REPLY
               for o in outcomes):  # fmt: skip
            self._db.reply_added.set()

    async def queue(self) -> tuple[int, float | None]:
        """How many messages wait to be sent, and since when the oldest has (created_at)."""
        return await self._db.read(_queue)

    async def counts(self) -> dict[str, int]:
        """Messages by state, from the counters the triggers keep."""
        found = await self._db.read(rows, COUNTS_SQL)
        return {state: n for state, n in found}


def insert_messages(
    db: Connection, messages: Sequence[NewMessage], now: float
) -> list[tuple[str, str]]:
    """Insert new messages (a ref already there is left alone) inside the caller's
    transaction; returns the first statuses of those inserted, for the caller to add to the
    outbox. A ref already there is told nothing again: with shared intake a job two daemons
    decided side by side (a takeover of a daemon that was only slow) is one message, and
    a second `queued` after its `delivered` would be the agency's last word on it."""
    held = digests(db, "messages", "ref", [(m.agency, m.ref) for m in messages])
    messages = [m for m in messages if (m.agency, m.ref) not in held]
    db.executemany(
        insert_messages_sql(db.dialect),
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
                m.link,
                m.channel.value,
                m.zns,
                m.chat_user,
                m.receipt_no,
                m.agency,
                m.procedure,
                now,
            )
            for m in messages
        ],
    )
    return [
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
                channel=m.channel,
            ),
        )
        for m in messages
    ]


def queues_any(messages: Iterable[NewMessage]) -> bool:
    return any(m.state is MessageState.QUEUED for m in messages)


# The lanes that may go now, and any message with a part already out whatever its lane:
# inside quiet hours, the rest of a long notice begun before 21:00 and put back for a
# moment (a throttle, a transient answer) goes at once, since a phone cannot join parts
# sent ten hours apart.
LANES_OR_BEGUN = (
    "(priority <= ? OR EXISTS (SELECT 1 FROM parts WHERE parts.message_id = messages.id))"
)


def not_resent(channel: Channel) -> str:
    """A Zalo notice marked as sent (`ZaloBook.sending`) whose answer is unrecorded is never
    due from here: a daemon that died with it waiting is taken care of by
    `ZaloBook.orphaned` (it waits for its receipt), not by a second request to Zalo."""
    return "AND fallback_at IS NULL" if channel is Channel.ZALO else ""


def queues_a_reply(messages: Iterable[NewMessage]) -> bool:
    return any(m.state is MessageState.QUEUED and m.priority <= Priority.MO_REPLY for m in messages)


def _queue(db: Connection) -> tuple[int, float | None]:
    ((depth,),) = db.execute(QUEUE_DEPTH_SQL).fetchall()
    ((oldest,),) = db.execute(OLDEST_WAITING_SQL).fetchall()
    return depth, oldest


def _due(
    db: Connection,
    limit: int,
    skip: list[int],
    now: float,
    max_priority: int | None,
    channel: Channel,
    me: Claimant,
    seen_now: float,
) -> list[Queued]:
    lanes = [] if max_priority is None else [max_priority]
    found = db.execute(
        f"""SELECT id, agency, ref, kind, phone, source, text, priority, attempts,
                   concat_ref, expires_at, event_id, receipt_no, link, segments,
                   zns, chat_user
            FROM messages
            WHERE state = '{QUEUED}' AND channel = ? AND not_before <= ?
            {f"AND {LANES_OR_BEGUN}" if lanes else ""}
            {f"AND id NOT IN ({marks(skip)})" if skip else ""}
            AND {CLAIMABLE} {not_resent(channel)}
            ORDER BY priority, not_before, id LIMIT ?""",
        [channel.value, now, *lanes, *skip, *me.params(seen_now), limit],
    ).fetchall()
    if not found:
        return []
    ids = [r[0] for r in found]
    db.execute(f"UPDATE messages SET claimed_by = ? WHERE id IN ({marks(ids)})", [me.name, *ids])
    done: dict[int, set[int]] = {}
    for mid, seq in db.execute(
        f"SELECT message_id, seq FROM parts WHERE message_id IN ({marks(ids)})", ids
    ):
        done.setdefault(mid, set()).add(seq)
    return [
        Queued(
            *r[:13],
            done_parts=frozenset(done.get(r[0], ())),
            link=r[13],
            segments=r[14],
            channel=channel,
            zns=r[15],
            chat_user=r[16],
        )
        for r in found
    ]


def _record_outcomes(db: Connection, outcomes: Sequence[Outcome], now: float, me: str) -> None:
    parts = [p for o in outcomes for p in o.parts]
    db.executemany(
        """INSERT INTO parts (message_id, seq, smsc_id) VALUES (?, ?, ?)
           ON CONFLICT (message_id, seq)
           DO UPDATE SET smsc_id = excluded.smsc_id, state = 'submitted'""",
        [(p.message_id, p.seq, p.smsc_id) for p in parts],
    )
    db.executemany(
        "INSERT INTO part_keys (key, message_id, seq) VALUES (?, ?, ?)",
        [(k, p.message_id, p.seq) for p in parts for k in p.keys],
    )
    # Only a message still queued on the channel that tried it: a notice that Zalo's
    # receipt settled while its send (by Zalo, or by SMS after the fallback) was under way,
    # or that fell back meanwhile, keeps what that write gave it. An SMS that went all the
    # same keeps its parts above (paid for, counted by the figures' trigger), unpublished.
    # Nor one another daemon took while this one was stalled past its lease: it is that
    # daemon's now, and its outcome is the message's.
    update = """UPDATE messages SET state = ?, reason = ?, updated_at = ?,
               segments = COALESCE(?, segments), attempts = ?, not_before = ?,
               link = COALESCE(?, link), channel = ?,
               channel_id = COALESCE(?, channel_id), fallback_at = ?, claimed_by = NULL
           WHERE id = ? AND state = 'queued' AND channel = ?
             AND (claimed_by IS NULL OR claimed_by = ?)"""
    outcomes = [
        o
        for o in outcomes
        if db.execute(
            update,
            (
                o.state.value,
                o.reason,
                now,
                o.segments,
                o.attempts,
                o.not_before,
                o.link,
                o.goes_by.value,
                o.channel_id,
                o.fallback_at,
                o.message.id,
                o.message.channel.value,
                me,
            ),
        ).rowcount
    ]
    # A queued outcome is a retry, unpublished, unless it hands the notice to another
    # channel: the agency hears that it goes on by SMS, and why.
    published = [
        o for o in outcomes if o.state is not MessageState.QUEUED or o.goes_by != o.message.channel
    ]
    # A status's segments are those the text takes in every state (docs/schema/status.json):
    # the acceptance's count, else what the message held when it was fetched.
    statuses.insert(
        db,
        [
            (
                o.message.agency,
                status_payload(
                    ref=o.message.ref,
                    event_id=o.message.event_id,
                    receipt_no=o.message.receipt_no,
                    kind=o.message.kind,
                    phone=o.message.phone,
                    state=o.state,
                    reason=o.reason,
                    segments=o.segments if o.segments is not None else o.message.segments,
                    at=now,
                    link=o.link or o.message.link,
                    channel=o.goes_by,
                ),
            )
            for o in published
        ],
    )
    # Receipts that overtook their submit_sm_resp can be applied now.
    receipts.apply_early_receipts(db, [k for p in parts for k in p.keys], now)

