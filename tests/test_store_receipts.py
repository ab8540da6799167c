"""Receipts in the store: the most final wins, early receipts are short-lived, and a
message whose receipt never comes expires."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from gateway.composer import Composer
from gateway.config import default_config
from gateway.store import Outcome, PartResult, Store
from gateway.store_receipts import EARLY_RECEIPT_TTL, NO_RECEIPT, SUBMITTED_BEFORE, PartState

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
async def store(tmp_path, clock):
    async with Store.open(tmp_path / "gateway.db", clock=clock) as store:
        yield store


async def queue(store: Store, clock: Clock, ref: str = "job-1") -> None:
    composer = Composer(default_config(), clock=clock)
    message = composer.text("SCT", ref=ref, kind="sms", to="0905123456", text="x")
    await store.record_intake(messages=[message])


async def submit(store: Store, clock: Clock, ref: str = "job-1", keys=KEY) -> None:
    """The submit outcome of `ref` (queued before), with one part matched by `keys`."""
    (queued,) = [m for m in await store.due(100) if m.ref == ref]
    part = PartResult(queued.id, 1, "4d2", keys)
    await store.record_outcomes(
        [Outcome(queued, "submitted", 1, clock(), segments=1, parts=[part])]
    )


async def state_of(store: Store, ref: str) -> str:
    ((state,),) = await store.fetchall("SELECT state FROM messages WHERE ref = ?", [ref])
    return state


async def statuses(store: Store) -> list[dict]:
    return [json.loads(p) for _, _, p in await store.pending_statuses(1000)]


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
        await store.record_receipts([(KEY, state, None)])

    await submit(store, clock)

    assert await store.counts() == {"delivered": 1}
    assert await store.fetchall("SELECT * FROM early_receipts") == []


async def test_early_receipt_within_minutes_still_settles_its_message(store, clock):
    await queue(store, clock)
    await store.record_receipts([(KEY, "delivered", None)])
    clock.now += EARLY_RECEIPT_TTL - 1

    await submit(store, clock)

    assert await store.counts() == {"delivered": 1}


async def test_old_unmatched_receipt_never_settles_a_new_message_with_its_id(store, clock):
    """Carriers reuse ids: a months-old UNDELIV for 1234 is not the new 1234's receipt."""
    await store.record_receipts([(KEY, "undeliverable", "receipt: UNDELIV err:001")])
    clock.now += 90 * DAY
    await queue(store, clock)

    await submit(store, clock)
    first = await store.counts()
    await store.record_receipts([(KEY, "delivered", None)])

    assert first == {"submitted": 1}
    assert await store.counts() == {"delivered": 1}


async def test_sweep_forgets_receipts_that_matched_nothing_for_minutes(store, clock):
    await store.record_receipts([(frozenset({"n:1"}), "delivered", None)])
    clock.now += EARLY_RECEIPT_TTL / 2
    await store.record_receipts([(frozenset({"n:2"}), "delivered", None)])
    clock.now += EARLY_RECEIPT_TTL / 2 + 1

    await store.expire_unreceipted(2 * DAY)

    assert await store.fetchall("SELECT key FROM early_receipts") == [("n:2",)]


# -- receipts that never come -----------------------------------------------------------


async def test_submitted_without_a_final_receipt_expires_after_the_timeout(store, clock):
    await queue(store, clock)
    await submit(store, clock)
    await store.record_receipts([(KEY, "enroute", "receipt: ENROUTE")])
    clock.now += 2 * DAY - 1
    early = await store.expire_unreceipted(2 * DAY)
    clock.now += 2

    expired = await store.expire_unreceipted(2 * DAY)

    assert (early, expired) == (0, 1)
    assert await store.fetchall("SELECT state, reason FROM messages") == [("expired", NO_RECEIPT)]
    last = (await statuses(store))[-1]
    assert (last["id"], last["state"], last["reason"]) == ("job-1", "expired", NO_RECEIPT)
    assert last["to"] == "8490*****56"


async def test_receipt_after_the_expiry_changes_nothing(store, clock):
    await queue(store, clock)
    await submit(store, clock)
    clock.now += 2 * DAY + 1
    await store.expire_unreceipted(2 * DAY)
    published = len(await statuses(store))

    await store.record_receipts([(KEY, "delivered", None)])

    assert await store.counts() == {"expired": 1}
    assert len(await statuses(store)) == published


async def test_delivered_and_queued_messages_never_expire(store, clock):
    await queue(store, clock, "delivered")
    await submit(store, clock, "delivered")
    await store.record_receipts([(KEY, "delivered", None)])
    await queue(store, clock, "waiting")
    clock.now += 30 * DAY

    assert await store.expire_unreceipted(2 * DAY) == 0
    assert await store.counts() == {"delivered": 1, "queued": 1}


async def test_expiry_takes_a_backlog_a_bounded_transaction_at_a_time(store, clock):
    for n in range(5):
        await queue(store, clock, f"job-{n}")
        await submit(store, clock, f"job-{n}", frozenset({f"n:{n}"}))
    clock.now += 3 * DAY

    assert await store.expire_unreceipted(2 * DAY, limit=3) == 3
    assert await store.expire_unreceipted(2 * DAY, limit=3) == 2
    assert await store.counts() == {"expired": 5}


async def test_expiry_finds_submitted_messages_by_index(store):
    plan = await store.fetchall(f"EXPLAIN QUERY PLAN {SUBMITTED_BEFORE}", [NOON, 10])

    assert any("messages_submitted" in row[-1] for row in plan), plan


async def test_receipt_for_a_reused_id_settles_the_latest_message_with_it(store, clock):
    """Id 1234 again, a day later: the receipt is the new message's, and the old one
    (still waiting) is not delivered by it."""
    await queue(store, clock, "old")
    await submit(store, clock, "old")
    clock.now += DAY
    await queue(store, clock, "new")
    await submit(store, clock, "new")

    await store.record_receipts([(KEY, "delivered", None)])

    assert await store.fetchall("SELECT ref, state FROM messages ORDER BY ref") == [
        ("new", "delivered"),
        ("old", "submitted"),
    ]


# -- several final receipts for one id --------------------------------------------------


@pytest.mark.parametrize("early", [False, True], ids=["after-the-outcome", "overtaking-it"])
async def test_first_final_receipt_stays_whether_or_not_it_overtook_the_submit(store, clock, early):
    """ACCEPTD, DELIVRD, UNDELIV for one id: delivered, on either side of the commit of
    the submit outcome (the answer already published is not taken back)."""
    await queue(store, clock)
    if not early:
        await submit(store, clock)
    for state, error in (("enroute", None), ("delivered", None), ("undeliverable", "UNDELIV")):
        await store.record_receipts([(KEY, state, error)])
    if early:
        await submit(store, clock)

    assert await state_of(store, "job-1") == "delivered"
    assert await store.fetchall("SELECT state FROM parts") == [("delivered",)]
