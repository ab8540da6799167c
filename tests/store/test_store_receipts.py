"""Receipts in the store: the most final wins and the first final answer stays, each
receipt settles its best candidate, early receipts are short-lived, and a message whose
receipt never comes expires."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from gateway.app import composer_settings
from gateway.compose.composer import Composer
from gateway.domain.message import Outcome, PartResult
from gateway.domain.states import MessageState, PartState
from gateway.settings.config import default_config
from gateway.smpp.account import receipt_keys
from gateway.smpp.receipt import message_id_keys
from gateway.store.receipts import (
    AWAITING_RECEIPT,
    CANDIDATES,
    EARLY_RECEIPT_TTL,
    EXPIRED,
    NO_RECEIPT,
    SUBMITTED_BEFORE,
)
from gateway.store.schema import MIGRATIONS
from gateway.store.store import Store
from tests.support.store_reads import db_rows, query_plan

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOON = datetime(2026, 11, 23, 12, 0, tzinfo=TZ).timestamp()
DAY = 86400.0
KEY = frozenset({"n:1234"})


class Clock:
    def __init__(self, now: float = NOON) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def store(tmp_path, store_location, clock):
    async with Store.open(store_location, clock=clock) as store:
        yield store


async def queue(store: Store, clock: Clock, ref: str = "job-1") -> None:
    composer = Composer(composer_settings(default_config()), clock=clock)
    message = composer.text("SCT", ref=ref, kind="sms", to="0905123456", text="x")
    await store.dossiers.record_intake(messages=[message])


async def submit(store: Store, clock: Clock, ref: str = "job-1", keys=KEY) -> None:
    """The submit outcome of `ref` (queued before), with one part matched by `keys`."""
    (queued,) = [m for m in await store.outbox.due(100) if m.ref == ref]
    part = PartResult(queued.id, 1, "4d2", keys)
    await store.outbox.record_outcomes(
        [Outcome(queued, "submitted", 1, clock(), segments=1, parts=[part])]
    )


async def state_of(store: Store, ref: str) -> str:
    ((state,),) = await db_rows(store, "SELECT state FROM messages WHERE ref = ?", [ref])
    return state


async def statuses(store: Store) -> list[dict]:
    return [json.loads(p) for _, _, p in await store.statuses.pending(1000)]


# -- the vocabulary ---------------------------------------------------------------------


def test_final_states_outrank_enroute_which_outranks_submitted():
    assert PartState.SUBMITTED.outranked_by(PartState.ENROUTE)
    assert not PartState.DELIVERED.outranked_by(PartState.ENROUTE)
    assert PartState.ENROUTE.outranked_by(PartState.UNDELIVERABLE)
    assert not PartState.DELIVERED.outranked_by(PartState.UNDELIVERABLE)  # the first stays


# -- receipts before their submit outcome -----------------------------------------------


@pytest.mark.parametrize(
    "arrivals",
    [["enroute", "delivered"], ["delivered", "enroute"]],
    ids=["acceptd-then-delivrd", "delivrd-then-acceptd"],
)
async def test_most_final_of_two_early_receipts_settles_the_message(store, clock, arrivals):
    """ACCEPTD and DELIVRD both overtake the submit outcome: delivered, in either order."""
    await queue(store, clock)
    for state in arrivals:
        await store.receipts.record_receipts([(KEY, state, None)])

    await submit(store, clock)

    assert await store.outbox.counts() == {"delivered": 1}
    assert await db_rows(store, "SELECT * FROM early_receipts") == []


async def test_early_receipt_within_minutes_still_settles_its_message(store, clock):
    await queue(store, clock)
    await store.receipts.record_receipts([(KEY, "delivered", None)])
    clock.now += EARLY_RECEIPT_TTL - 1

    await submit(store, clock)

    assert await store.outbox.counts() == {"delivered": 1}


async def test_old_unmatched_receipt_never_settles_a_new_message_with_its_id(store, clock):
    """Carriers reuse ids: a months-old UNDELIV for 1234 is not the new 1234's receipt."""
    await store.receipts.record_receipts([(KEY, "undeliverable", "receipt: UNDELIV err:001")])
    clock.now += 90 * DAY
    await queue(store, clock)

    await submit(store, clock)
    first = await store.outbox.counts()
    await store.receipts.record_receipts([(KEY, "delivered", None)])

    assert first == {"submitted": 1}
    assert await store.outbox.counts() == {"delivered": 1}


async def test_sweep_forgets_receipts_that_matched_nothing_for_minutes(store, clock):
    await store.receipts.record_receipts([(frozenset({"n:1"}), "delivered", None)])
    clock.now += EARLY_RECEIPT_TTL / 2
    await store.receipts.record_receipts([(frozenset({"n:2"}), "delivered", None)])
    clock.now += EARLY_RECEIPT_TTL / 2 + 1

    await store.receipts.expire_unreceipted(2 * DAY)

    assert await db_rows(store, "SELECT key FROM early_receipts") == [("n:2",)]


# -- receipts that never come -----------------------------------------------------------


async def test_submitted_without_a_final_receipt_expires_after_the_timeout(store, clock):
    await queue(store, clock)
    await submit(store, clock)
    await store.receipts.record_receipts([(KEY, "enroute", "receipt: ENROUTE")])
    clock.now += 2 * DAY - 1
    early = await store.receipts.expire_unreceipted(2 * DAY)
    clock.now += 2

    expired = await store.receipts.expire_unreceipted(2 * DAY)

    assert (early, expired) == (0, 1)
    assert await db_rows(store, "SELECT state, reason FROM messages") == [("expired", NO_RECEIPT)]
    last = (await statuses(store))[-1]
    assert (last["id"], last["state"], last["reason"]) == ("job-1", "expired", NO_RECEIPT)
    assert last["to"] == "8490*****56"


async def test_receipt_after_the_expiry_changes_nothing(store, clock):
    await queue(store, clock)
    await submit(store, clock)
    clock.now += 2 * DAY + 1
    await store.receipts.expire_unreceipted(2 * DAY)
    published = len(await statuses(store))

    await store.receipts.record_receipts([(KEY, "delivered", None)])

    assert await store.outbox.counts() == {"expired": 1}
    assert len(await statuses(store)) == published


async def test_delivered_and_queued_messages_never_expire(store, clock):
    await queue(store, clock, "delivered")
    await submit(store, clock, "delivered")
    await store.receipts.record_receipts([(KEY, "delivered", None)])
    await queue(store, clock, "waiting")
    clock.now += 30 * DAY

    assert await store.receipts.expire_unreceipted(2 * DAY) == 0
    assert await store.outbox.counts() == {"delivered": 1, "queued": 1}


async def test_expiry_takes_a_backlog_a_bounded_transaction_at_a_time(store, clock):
    for n in range(5):
        await queue(store, clock, f"job-{n}")
        await submit(store, clock, f"job-{n}", frozenset({f"n:{n}"}))
    clock.now += 3 * DAY

    assert await store.receipts.expire_unreceipted(2 * DAY, limit=3) == 3
    assert await store.receipts.expire_unreceipted(2 * DAY, limit=3) == 2
    assert await store.outbox.counts() == {"expired": 5}


async def test_expiry_finds_submitted_messages_by_index(store):
    plan = await query_plan(store, SUBMITTED_BEFORE.format(not_on=""), [NOON, 10])

    assert any("messages_submitted" in step for step in plan), plan


async def test_receipt_for_a_reused_id_settles_the_latest_message_with_it(store, clock):
    """Id 1234 again, a day later: the receipt is the new message's, and the old one
    (still waiting) is not delivered by it."""
    await queue(store, clock, "old")
    await submit(store, clock, "old")
    clock.now += DAY
    await queue(store, clock, "new")
    await submit(store, clock, "new")

    await store.receipts.record_receipts([(KEY, "delivered", None)])

    assert await db_rows(store, "SELECT ref, state FROM messages ORDER BY ref") == [
        ("new", "delivered"),
        ("old", "submitted"),
    ]


# -- which part a receipt is about ------------------------------------------------------


async def test_hex_counter_ids_each_receipt_settles_its_own_message(store, clock):
    """The carrier numbers messages with a hex counter and writes the same hex in the
    receipt. Id 0000000A (10) and id 00000010 (16, but all decimal digits, so also read
    as 10) are both outstanding: 0000000A's UNDELIV fails job-a, not job-b."""
    for ref, smsc_id in (("job-a", "0000000A"), ("job-b", "00000010")):
        await queue(store, clock, ref)
        await submit(store, clock, ref, keys=message_id_keys(smsc_id))

    await store.receipts.record_receipts(
        [(message_id_keys("0000000a"), "undeliverable", "receipt: UNDELIV")]
    )
    await store.receipts.record_receipts([(message_id_keys("10"), "delivered", None)])

    assert (await state_of(store, "job-a"), await state_of(store, "job-b")) == (
        "undeliverable",
        "delivered",
    )


async def test_receipt_with_the_id_in_the_other_base_still_settles_its_message(store, clock):
    """submit_sm_resp said 4D2 (hex), the receipt says 1234 (decimal): the same message."""
    await queue(store, clock)
    await submit(store, clock, keys=message_id_keys("4D2"))

    await store.receipts.record_receipts([(message_id_keys("1234"), "delivered", None)])

    assert await state_of(store, "job-1") == "delivered"


async def test_receipt_goes_to_the_part_still_waiting_rather_than_one_just_settled(store, clock):
    """Two parts with id 1234 and the newer already delivered: the next receipt for 1234
    is the older one's (a restored store still waiting on it), not a repeat for the newer."""
    await queue(store, clock, "waiting")
    await submit(store, clock, "waiting")
    await queue(store, clock, "settled")
    await submit(store, clock, "settled")
    await store.receipts.record_receipts([(KEY, "delivered", None)])
    assert await state_of(store, "settled") == "delivered"

    await store.receipts.record_receipts([(KEY, "undeliverable", "receipt: UNDELIV")])

    assert await state_of(store, "waiting") == "undeliverable"


async def test_repeated_receipt_for_a_just_settled_message_is_not_kept_for_later(store, clock):
    """The carrier repeats a DELIVRD minutes after the first: it is the same message's, so
    it is not kept as an early receipt that could settle the next message with that id."""
    await queue(store, clock)
    await submit(store, clock)
    await store.receipts.record_receipts([(KEY, "delivered", None)])
    clock.now += EARLY_RECEIPT_TTL / 2

    await store.receipts.record_receipts([(KEY, "undeliverable", "receipt: UNDELIV")])

    assert await db_rows(store, "SELECT * FROM early_receipts") == []
    assert await state_of(store, "job-1") == "delivered"


async def test_receipt_for_a_reused_id_overtaking_the_new_submit_settles_the_new_message(
    store, clock
):
    """Day 0: job-old gets id 1234 and is delivered. Day 3 the carrier reuses 1234 for
    job-new, and its DELIVRD overtakes the submit outcome: it waits as an early receipt
    and settles job-new, instead of being spent on job-old's long-final part."""
    await queue(store, clock, "job-old")
    await submit(store, clock, "job-old")
    await store.receipts.record_receipts([(KEY, "delivered", None)])
    clock.now += 3 * DAY
    await queue(store, clock, "job-new")

    await store.receipts.record_receipts([(KEY, "delivered", None)])  # before the outcome commits
    await submit(store, clock, "job-new")

    assert await state_of(store, "job-new") == "delivered"


async def test_receipts_find_their_parts_by_index(store):
    details = await query_plan(store, CANDIDATES.format(marks="?,?"), ["n:1", "s:1"])

    assert any("part_keys_key" in d for d in details), details
    assert not any(d.startswith("SCAN") or "Seq Scan" in d for d in details), details


# -- several final receipts for one id --------------------------------------------------


@pytest.mark.parametrize("early", [False, True], ids=["after-the-outcome", "overtaking-it"])
async def test_first_final_receipt_stays_whether_or_not_it_overtook_the_submit(store, clock, early):
    """ACCEPTD, DELIVRD, UNDELIV for one id: delivered, on either side of the commit of
    the submit outcome (the answer already published is not taken back)."""
    await queue(store, clock)
    if not early:
        await submit(store, clock)
    for state, error in (("enroute", None), ("delivered", None), ("undeliverable", "UNDELIV")):
        await store.receipts.record_receipts([(KEY, state, error)])
    if early:
        await submit(store, clock)

    assert await state_of(store, "job-1") == "delivered"
    assert await db_rows(store, "SELECT state FROM parts") == [("delivered",)]


async def test_store_of_the_previous_release_gets_the_exact_key_of_its_numeric_ids(tmp_path):
    """Parts stored before every id also had its `s:` key: an all-hex or all-decimal id
    gets it on upgrade, so its receipt still prefers it; other ids had it already."""
    db = tmp_path / "gateway.db"
    with sqlite3.connect(db, isolation_level=None) as conn:
        for number, script in enumerate(MIGRATIONS[:8], start=1):
            conn.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")
        for seq, smsc_id in enumerate(("00000010", "0000000A", "Msg-7"), start=1):
            conn.execute(
                "INSERT INTO parts (message_id, seq, smsc_id) VALUES (1, ?, ?)", (seq, smsc_id)
            )
            conn.executemany(
                "INSERT INTO part_keys VALUES (?, 1, ?)",
                [(k, seq) for k in message_id_keys(smsc_id) if not k.startswith("s:") or seq == 3],
            )

    async with Store.open(db, clock=Clock()) as store:
        keys = await db_rows(store, "SELECT seq, key FROM part_keys ORDER BY seq, key")

    # (then scoped to the link `default`, the one `smpp:` section they went by)
    assert keys == [(seq, k) for seq, i in ((1, "00000010"), (2, "0000000A"), (3, "Msg-7"))
                    for k in sorted(receipt_keys("default", i))]  # fmt: skip


async def test_early_hex_receipts_each_settle_their_own_message(store, clock):
    """Under a hex counter the receipts for 0000000A (job-a) and 00000010 (job-b) both
    overtake their submits: each settles its own message, 00000010's UNDELIV waits for
    job-b instead of being spent on job-a or forgotten."""
    await queue(store, clock, "job-a")
    await queue(store, clock, "job-b")
    await store.receipts.record_receipts(
        [(message_id_keys("00000010"), "undeliverable", "receipt: UNDELIV")]
    )
    await store.receipts.record_receipts([(message_id_keys("0000000A"), "delivered", None)])

    await submit(store, clock, "job-a", keys=message_id_keys("0000000A"))
    await submit(store, clock, "job-b", keys=message_id_keys("00000010"))

    assert (await state_of(store, "job-a"), await state_of(store, "job-b")) == (
        "delivered",
        "undeliverable",
    )


def test_receipts_settle_and_expire_only_as_the_transition_table_allows():
    assert AWAITING_RECEIPT is MessageState.SUBMITTED
    assert AWAITING_RECEIPT.may_become(EXPIRED)
    assert f"state = '{AWAITING_RECEIPT}'" in SUBMITTED_BEFORE  # the partial index's literal
