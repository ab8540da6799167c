"""Zalo's receipt against the SMS fallback: a notice is delivered when any channel
delivered it, whether its SMS is waiting, under way or out, and whether Zalo's acceptance
was heard or not; an SMS that went all the same is counted, since it is paid for."""

from __future__ import annotations

import pytest

from gateway.domain.message import Outcome, PartResult
from gateway.store.store import Store
from gateway.store.zalo import Delivery, tracking_id
from tests.support.channels import (
    FALLBACK_AFTER,
    accepted_by_zalo,
    on_zalo,
    state_and_channel,
    zalo_notice,
)
from tests.support.clock import Clock, at
from tests.support.store_reads import db_rows


@pytest.fixture
def clock() -> Clock:
    return Clock(at(9))


@pytest.fixture
async def store(tmp_path, store_location, clock):
    async with Store.open(store_location, clock=clock) as store:
        yield store


async def test_a_receipt_for_an_unanswered_notice_after_its_fallback_settles_it_by_zalo(
    store, clock
):
    """Zalo took the request but answered too late (UNANSWERED): the sender records it
    `submitted` with no Zalo msg_id. The timer hands it to SMS (at night its SMS waits for
    the morning); Zalo's receipt then comes: it settles the notice, as for an
    acknowledged one, and no SMS goes."""
    await zalo_notice(store, clock)
    queued = await on_zalo(store, "n1")
    await store.outbox.record_outcomes(
        [Outcome(queued, "submitted", 1, clock(), channel_id=None, fallback_at=clock() + 600)]
    )
    clock.now += FALLBACK_AFTER + 1
    assert await store.zalo.fall_back(FALLBACK_AFTER) == 1

    found = await store.zalo.delivered(tracking_id(queued.id, "SCT", "n1"), "zmsg-1")

    assert found is Delivery.DELIVERED
    assert await state_and_channel(store, "n1") == ("delivered", "zalo")
    assert await store.outbox.due(10) == []  # no SMS goes


async def test_a_receipt_for_a_notice_left_marked_by_a_crash_after_its_fallback_settles_it(
    store, clock
):
    """Killed mid-request: the mark makes it `submitted` at the next start (no msg_id);
    the timer hands it to SMS; Zalo's receipt before the SMS went settles it."""
    await zalo_notice(store, clock)
    queued = await on_zalo(store, "n1")
    await store.zalo.sending([queued.id], FALLBACK_AFTER)
    assert await store.zalo.unanswered_at_start() == 1
    clock.now += FALLBACK_AFTER + 1
    assert await store.zalo.fall_back(FALLBACK_AFTER) == 1

    found = await store.zalo.delivered(tracking_id(queued.id, "SCT", "n1"), "zmsg-1")

    assert found is Delivery.DELIVERED
    assert await store.outbox.due(10) == []


async def test_an_sms_sent_while_zalos_receipt_came_is_recorded_and_its_segment_counted(
    store, clock
):
    """The timer handed the notice to SMS and the SMS sender took it; Zalo's receipt comes
    while its submit_sm is out (no part recorded yet). The SMS went and is paid for: its
    part is kept and its segment is in the figures."""
    await zalo_notice(store, clock)
    queued = await accepted_by_zalo(store, clock, "n1", "zmsg-1")
    clock.now += FALLBACK_AFTER + 1
    await store.zalo.fall_back(FALLBACK_AFTER)
    (taken,) = await store.outbox.due(10)  # the SMS sender has it, submit_sm under way

    await store.zalo.delivered(tracking_id(queued.id, "SCT", "n1"), "zmsg-1")
    part = PartResult(taken.id, 1, "s1", frozenset({"s:s1@default"}))
    await store.outbox.record_outcomes(
        [Outcome(taken, "submitted", 1, clock(), segments=1, parts=[part])]
    )

    parts = await db_rows(store, "SELECT COUNT(*) FROM parts")
    figures = await db_rows(store, "SELECT SUM(segments) FROM figures")
    assert parts == [(1,)]  # the SMS went
    assert figures == [(1,)], "an SMS part was accepted by the SMSC but not counted"


async def test_a_notice_zalo_delivered_is_delivered_even_when_its_fallback_sms_is_not(store, clock):
    """The citizen's phone was offline: no Zalo receipt in 600 s, the SMS went, Zalo then
    delivered and the SMS came back UNDELIV. The notice reached the citizen by Zalo: its
    final state (and the figures' delivered) says so, not `undeliverable`."""
    await zalo_notice(store, clock)
    queued = await accepted_by_zalo(store, clock, "n1", "zmsg-1")
    clock.now += FALLBACK_AFTER + 1
    await store.zalo.fall_back(FALLBACK_AFTER)
    (taken,) = await store.outbox.due(10)
    part = PartResult(taken.id, 1, "s1", frozenset({"s:s1@default"}))
    await store.outbox.record_outcomes(
        [Outcome(taken, "submitted", 1, clock(), segments=1, parts=[part])]
    )

    found = await store.zalo.delivered(tracking_id(queued.id, "SCT", "n1"), "zmsg-1")
    await store.receipts.record_receipts(
        [(frozenset({"s:s1@default"}), "undeliverable", "receipt: UNDELIV err:001")]
    )

    assert found is Delivery.DELIVERED
    assert await state_and_channel(store, "n1") == ("delivered", "zalo")


async def test_a_zns_zalo_delivered_after_the_sms_went_is_in_zalos_figures(store, clock):
    """The report's Zalo cost is the notices Zalo delivered at report.zns_price: a receipt
    after the SMS went is a ZNS the user received, billed by Zalo, and counts."""
    await zalo_notice(store, clock)
    queued = await accepted_by_zalo(store, clock, "n1", "zmsg-1")
    clock.now += FALLBACK_AFTER + 1
    await store.zalo.fall_back(FALLBACK_AFTER)
    (taken,) = await store.outbox.due(10)
    part = PartResult(taken.id, 1, "s1", frozenset({"s:s1@default"}))
    await store.outbox.record_outcomes(
        [Outcome(taken, "submitted", 1, clock(), segments=1, parts=[part])]
    )

    await store.zalo.delivered(tracking_id(queued.id, "SCT", "n1"), "zmsg-1")

    rows = await db_rows(store, "SELECT SUM(zalo_delivered) FROM figures")
    assert rows == [(1,)]
