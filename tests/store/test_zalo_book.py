"""The store's side of Zalo: a Zalo notice queued per channel, its acceptance with the
fallback timer, Zalo's delivery receipt, and the fallback to SMS."""

from __future__ import annotations

import json

import pytest

from gateway.domain.channel import Channel
from gateway.domain.message import Outcome, PartResult
from gateway.store.store import Store
from gateway.store.zalo import Delivery, message_of, tracking_id
from tests.support.channels import (
    FALLBACK_AFTER,
    accepted_by_zalo,
    on_zalo,
    zalo_composer,
    zalo_notice,
)
from tests.support.clock import Clock, at
from tests.support.figures import dossier
from tests.support.store_reads import db_rows


@pytest.fixture
def clock() -> Clock:
    return Clock(at(9))


@pytest.fixture
async def store(tmp_path, store_location, clock):
    async with Store.open(store_location, clock=clock) as store:
        yield store


async def row(store: Store, ref: str) -> tuple:
    (found,) = await db_rows(
        store, "SELECT state, channel, reason, attempts FROM messages WHERE ref = ?", [ref]
    )
    return found


async def settle_by_sms(store: Store, clock: Clock, ref: str) -> None:
    """`ref`, handed to SMS, submitted in one part."""
    (queued,) = [m for m in await store.outbox.due(10) if m.ref == ref]
    part = PartResult(queued.id, 1, "s1", frozenset({"s:s1@default"}))
    await store.outbox.record_outcomes(
        [Outcome(queued, "submitted", 1, clock(), segments=1, parts=[part])]
    )


async def statuses(store: Store) -> list[dict]:
    return [json.loads(p) for _, _, p in await store.statuses.pending(1000)]


async def test_a_zalo_notice_is_due_for_zalo_and_not_for_sms(store, clock):
    await zalo_notice(store, clock)

    assert await store.outbox.due(10) == []
    assert [m.ref for m in await store.outbox.due(10, channel=Channel.ZALO)] == ["n1"]


async def test_a_zalo_notice_is_queued_with_its_channel_in_the_status(store, clock):
    await zalo_notice(store, clock)

    (status,) = await statuses(store)
    assert (status["state"], status["channel"]) == ("queued", "zalo")


async def test_a_notice_zalo_refused_goes_by_sms_at_once_and_says_why(store, clock):
    await zalo_notice(store, clock)
    queued = await on_zalo(store, "n1")

    refused = "zalo: -118 not a Zalo user"
    await store.outbox.record_outcomes(
        [Outcome(queued, "queued", 0, clock(), reason=refused, channel=Channel.SMS)]
    )

    assert await row(store, "n1") == ("queued", "sms", refused, 0)
    assert [m.ref for m in await store.outbox.due(10)] == ["n1"]
    last = (await statuses(store))[-1]
    assert (last["state"], last["channel"], last["reason"]) == ("queued", "sms", refused)


async def test_a_retry_on_zalo_publishes_nothing(store, clock):
    await zalo_notice(store, clock)
    queued = await on_zalo(store, "n1")

    await store.outbox.record_outcomes(
        [Outcome(queued, "queued", 1, clock() + 30, reason="zalo: -32 rate limit")]
    )

    assert len(await statuses(store)) == 1  # the first `queued` only
    assert await row(store, "n1") == ("queued", "zalo", "zalo: -32 rate limit", 1)


async def test_zalos_receipt_delivers_the_notice(store, clock):
    await zalo_notice(store, clock)
    queued = await accepted_by_zalo(store, clock, "n1", "zmsg-1")

    found = await store.zalo.delivered(tracking_id(queued.id, "SCT", "n1"), "zmsg-1")

    assert found is Delivery.DELIVERED
    assert (await row(store, "n1"))[:2] == ("delivered", "zalo")
    last = (await statuses(store))[-1]
    assert (last["state"], last["channel"]) == ("delivered", "zalo")


async def test_a_receipt_before_the_acceptance_is_recorded_delivers_and_the_acceptance_is_moot(
    store, clock
):
    await zalo_notice(store, clock)
    queued = await on_zalo(store, "n1")

    early = await store.zalo.delivered(tracking_id(queued.id, "SCT", "n1"), "zmsg-1")
    await store.outbox.record_outcomes(
        [Outcome(queued, "submitted", 1, clock(), channel_id="zmsg-1", fallback_at=clock() + 1)]
    )
    clock.now += 10
    moved = await store.zalo.fall_back(FALLBACK_AFTER)

    assert early is Delivery.DELIVERED
    assert moved == 0
    assert (await row(store, "n1"))[:2] == ("delivered", "zalo")
    assert [s["state"] for s in await statuses(store)] == ["queued", "delivered"]


async def test_a_receipt_with_a_tracking_id_we_never_made_is_unknown(store, clock):
    await zalo_notice(store, clock)
    queued = await accepted_by_zalo(store, clock, "n1")

    assert await store.zalo.delivered("nonsense", None) is Delivery.UNKNOWN
    assert await store.zalo.delivered(f"{queued.id}-000000000000", None) is Delivery.UNKNOWN
    assert (await row(store, "n1"))[0] == "submitted"


async def test_a_receipt_naming_another_zalo_message_id_is_unknown(store, clock):
    await zalo_notice(store, clock)
    queued = await accepted_by_zalo(store, clock, "n1", "zmsg-1")

    found = await store.zalo.delivered(tracking_id(queued.id, "SCT", "n1"), "zmsg-other")

    assert found is Delivery.UNKNOWN
    assert (await row(store, "n1"))[0] == "submitted"


async def test_a_tracking_id_names_its_message():
    assert message_of(tracking_id(42, "SCT", "n1")) == 42
    assert tracking_id(42, "SCT", "n1") != tracking_id(42, "STP", "n1")
    assert len(tracking_id(10**15, "SCT", "x" * 200)) <= 48


async def test_an_unconfirmed_notice_goes_by_sms_when_its_timer_ends(store, clock):
    await zalo_notice(store, clock)
    await accepted_by_zalo(store, clock, "n1")

    clock.now += FALLBACK_AFTER - 1
    early = await store.zalo.fall_back(FALLBACK_AFTER)
    clock.now += 2
    moved = await store.zalo.fall_back(FALLBACK_AFTER)

    assert (early, moved) == (0, 1)
    state, channel, reason, attempts = await row(store, "n1")
    assert (state, channel, attempts) == ("queued", "sms", 0)
    assert reason == "zalo: no receipt within 600 s"
    assert [m.ref for m in await store.outbox.due(10)] == ["n1"]


async def test_the_timer_moves_a_notice_once(store, clock):
    await zalo_notice(store, clock)
    await accepted_by_zalo(store, clock, "n1")
    clock.now += FALLBACK_AFTER + 1

    moved = [await store.zalo.fall_back(FALLBACK_AFTER) for _ in range(3)]

    assert moved == [1, 0, 0]
    assert [s["state"] for s in await statuses(store)] == ["queued", "submitted", "queued"]


async def test_a_receipt_after_the_fallback_before_the_sms_went_settles_it_by_zalo(store, clock):
    await zalo_notice(store, clock)
    queued = await accepted_by_zalo(store, clock, "n1", "zmsg-1")
    clock.now += FALLBACK_AFTER + 1
    await store.zalo.fall_back(FALLBACK_AFTER)

    found = await store.zalo.delivered(tracking_id(queued.id, "SCT", "n1"), "zmsg-1")

    assert found is Delivery.DELIVERED
    assert (await row(store, "n1"))[:2] == ("delivered", "zalo")
    assert await store.outbox.due(10) == []  # no SMS goes


async def test_a_receipt_after_the_notice_is_final_is_late_and_changes_nothing(store, clock):
    await zalo_notice(store, clock)
    queued = await accepted_by_zalo(store, clock, "n1", "zmsg-1")
    clock.now += FALLBACK_AFTER + 1
    await store.zalo.fall_back(FALLBACK_AFTER)
    await settle_by_sms(store, clock, "n1")
    await store.receipts.record_receipts([(frozenset({"s:s1@default"}), "delivered", None)])

    found = await store.zalo.delivered(tracking_id(queued.id, "SCT", "n1"), "zmsg-1")

    assert found is Delivery.LATE
    assert (await row(store, "n1"))[:2] == ("delivered", "sms")


async def test_a_receipt_for_a_message_that_never_was_a_zalo_notice_is_unknown(store, clock):
    composer = zalo_composer(clock, channels=("sms",))
    message = composer.notice("result", dossier(status="result_ready"), event_id="n1", ref="n1")
    await store.dossiers.record_intake(messages=[message])
    (queued,) = await store.outbox.due(10)

    found = await store.zalo.delivered(tracking_id(queued.id, "SCT", "n1"), None)

    assert found is Delivery.UNKNOWN
    assert (await row(store, "n1"))[:2] == ("queued", "sms")


async def test_with_zalo_gone_every_notice_on_it_goes_by_sms_and_chat_replies_fail(store, clock):
    composer = zalo_composer(clock)
    await zalo_notice(store, clock, "n1")
    await zalo_notice(store, clock, "n2")
    await accepted_by_zalo(store, clock, "n2")
    reply = composer.text("", ref="mo:1", kind="mo_reply", to=None, text="Hồ sơ…", chat_user="u1")
    await store.dossiers.record_intake(messages=[reply])

    moved = await store.zalo.fall_back_all()

    assert moved == 3
    assert (await row(store, "n1"))[:2] == ("queued", "sms")
    assert (await row(store, "n2"))[:2] == ("queued", "sms")
    assert (await row(store, "mo:1"))[:3] == ("failed", "zalo", "zalo: not configured")


async def test_the_figures_count_notices_delivered_by_zalo_and_those_handed_to_sms(store, clock):
    await zalo_notice(store, clock, "n1")
    await zalo_notice(store, clock, "n2")
    first = await accepted_by_zalo(store, clock, "n1", "z1")
    await accepted_by_zalo(store, clock, "n2", "z2")
    await store.zalo.delivered(tracking_id(first.id, "SCT", "n1"), "z1")
    clock.now += FALLBACK_AFTER + 1
    await store.zalo.fall_back(FALLBACK_AFTER)

    rows = await db_rows(store, "SELECT SUM(zalo_delivered), SUM(zalo_fallbacks) FROM figures")

    assert rows == [(1, 1)]
