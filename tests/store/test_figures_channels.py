"""The figures per channel: what the triggers of step 13 count from the store's own Zalo
and e-mail writes, and what `Figures.table` reads of them, summed like the other figures
per agency × procedure × day and their combinations, with Zalo's cost.

A notice counts once in `notices_delivered` whichever channel delivered it; the channel
columns say which carried it: `zalo_delivered` (Zalo's receipt came), `zalo_fallbacks`
(Zalo refused it or did not confirm it, and it went on to SMS). A letter (the e-mail copy)
counts `emails_sent` once its mail server accepted it, `emails_failed` once refused for
good or expired."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest

from gateway.compose.composer import Composer
from gateway.domain.channel import Channel
from gateway.domain.message import Outcome
from gateway.domain.states import MessageState
from gateway.store.figures import FigureRow, Figures
from gateway.store.store import Store
from gateway.store.zalo import Delivery, tracking_id
from tests.support.channel_figures import (
    channel_composer,
    delivered_by_zalo,
    letter_outcome,
    refused_by_zalo,
    seed_channels,
    store_before_channels,
)
from tests.support.channel_figures import result_notice as notice
from tests.support.channels import FALLBACK_AFTER, accepted_by_zalo, on_zalo
from tests.support.clock import Clock, at
from tests.support.figures import ALL, PRICE, TZ, settle

DAY = date(2026, 11, 23)
ZNS_PRICE = 300  # VND a ZNS notice delivered


@pytest.fixture
def clock() -> Clock:
    return Clock(at(9))


@pytest.fixture
async def store(tmp_path, store_location, clock):
    async with Store.open(store_location, clock=clock) as store:
        yield store


@pytest.fixture
def composer(clock: Clock) -> Composer:
    return channel_composer(clock)


async def table(store: Store, by=ALL) -> list[FigureRow]:
    return await Figures(store.database, TZ, PRICE, ZNS_PRICE).table(DAY, DAY, by)


async def only(store: Store) -> FigureRow:
    (row,) = await table(store, ())
    return row


def channels(row: FigureRow) -> tuple[int, int, int, int]:
    return (row.zalo_delivered, row.zalo_fallbacks, row.emails_sent, row.emails_failed)


# -- Zalo -------------------------------------------------------------------------------


async def test_a_notice_zalo_delivered_counts_delivered_once_and_zalo_delivered_once(
    store, clock, composer
):
    await notice(store, composer, "a1")

    await delivered_by_zalo(store, clock, "a1")

    row = await only(store)
    assert (row.notices_delivered, row.results_delivered, row.segments) == (1, 1, 0)
    assert channels(row) == (1, 0, 0, 0)


async def test_a_notice_zalo_did_not_confirm_then_sms_delivered_counts_one_fallback_no_zalo(
    store, clock, composer
):
    await notice(store, composer, "a1")
    await accepted_by_zalo(store, clock, "a1")
    clock.now += FALLBACK_AFTER + 1
    assert await store.zalo.fall_back(FALLBACK_AFTER) == 1

    await settle(store, clock, "a1", "delivered")

    row = await only(store)
    assert (row.notices_queued, row.notices_delivered, row.segments) == (1, 1, 1)
    assert channels(row) == (0, 1, 0, 0)


async def test_a_notice_zalo_refused_and_sms_delivered_counts_one_fallback_no_zalo(
    store, clock, composer
):
    await notice(store, composer, "a1")
    await refused_by_zalo(store, clock, "a1")

    await settle(store, clock, "a1", "delivered")

    row = await only(store)
    assert (row.notices_delivered, row.segments) == (1, 1)
    assert channels(row) == (0, 1, 0, 0)


async def test_zalos_receipt_after_the_fallback_counts_no_zalo_delivery(store, clock, composer):
    await notice(store, composer, "a1")
    queued = await accepted_by_zalo(store, clock, "a1", "z1")
    clock.now += FALLBACK_AFTER + 1
    await store.zalo.fall_back(FALLBACK_AFTER)
    await settle(store, clock, "a1", "delivered")

    late = await store.zalo.delivered(tracking_id(queued.id, "SCT", "a1"), "z1")

    assert late is Delivery.LATE
    row = await only(store)
    assert row.notices_delivered == 1
    assert channels(row) == (0, 1, 0, 0)


async def test_a_retry_on_zalo_counts_no_fallback(store, clock, composer):
    await notice(store, composer, "a1")
    queued = await on_zalo(store, "a1")

    await store.outbox.record_outcomes(
        [Outcome(queued, "queued", 1, clock() + 30, reason="zalo: -32 rate limit")]
    )
    clock.now += 31
    await delivered_by_zalo(store, clock, "a1")

    assert channels(await only(store)) == (1, 0, 0, 0)


async def test_a_chat_reply_zalo_carried_is_no_notice_zalo_delivered(store, clock, composer):
    reply = composer.text("", ref="mo:1", kind="mo_reply", to=None, text="Hồ sơ…", chat_user="u1")
    await store.dossiers.record_intake(messages=[reply])
    (queued,) = await store.outbox.due(10, channel=Channel.ZALO)

    await store.outbox.record_outcomes(
        [Outcome(queued, "delivered", 1, clock(), channel_id="chat-1")]
    )
    await notice(store, composer, "a1")
    await delivered_by_zalo(store, clock, "a1")

    assert channels(await only(store)) == (1, 0, 0, 0)  # the notice's alone


# -- E-mail -----------------------------------------------------------------------------


async def test_a_letter_its_mail_server_accepted_counts_emails_sent_once(store, clock, composer):
    await notice(store, composer, "a1", email="dan@example.vn")

    await letter_outcome(store, clock, "a1", MessageState.QUEUED)  # a 4xx: tried again
    clock.now += 61
    await letter_outcome(store, clock, "a1", MessageState.DELIVERED)

    assert channels(await only(store)) == (0, 0, 1, 0)


@pytest.mark.parametrize("state", [MessageState.FAILED, MessageState.EXPIRED])
async def test_a_letter_refused_for_good_or_expired_counts_emails_failed_once(
    store, clock, composer, state
):
    await notice(store, composer, "a1", email="dan@example.vn")

    await letter_outcome(store, clock, "a1", state)

    row = await only(store)
    assert channels(row) == (0, 0, 0, 1)
    assert row.notices_queued == 1  # the notice itself goes its own way


async def test_a_letter_refused_at_intake_for_its_address_is_neither_sent_nor_failed(
    store, clock, composer
):
    await notice(store, composer, "a1", email="not an address")
    await notice(store, composer, "a2", email="dan@example.vn")
    await letter_outcome(store, clock, "a2", MessageState.DELIVERED)

    assert channels(await only(store)) == (0, 0, 1, 0)  # a2's alone


async def test_a_letter_counts_under_its_dossiers_procedure_and_day(store, clock, composer):
    await notice(store, composer, "a1", email="dan@example.vn", code="2.002")
    await notice(store, composer, "a2", code="1.001")

    await letter_outcome(store, clock, "a1", MessageState.DELIVERED)

    rows = await table(store)
    assert [(r.agency, r.procedure_code, r.day, r.emails_sent) for r in rows] == [
        ("SCT", "1.001", DAY, 0), ("SCT", "2.002", DAY, 1),
    ]  # fmt: skip


# -- Sums and cost ----------------------------------------------------------------------


async def seeded(store: Store, clock: Clock, composer: Composer) -> None:
    """`seed_channels` (SCT, two procedures, by Zalo and by SMS, with e-mail copies); the
    next day a notice Zalo delivered."""
    await seed_channels(store, clock)
    clock.now = at(9, day=24)
    await notice(store, composer, "c1", code="1.001", when="2026-11-24T09:00:00+07:00")
    await delivered_by_zalo(store, clock, "c1")


async def test_the_channel_figures_sum_per_agency_procedure_and_day_and_their_combinations(
    store, clock, composer
):
    await seeded(store, clock, composer)
    figures = Figures(store.database, TZ, PRICE, ZNS_PRICE)
    two_days = (DAY, date(2026, 11, 24))

    every = await figures.table(*two_days, ALL)
    by_procedure = await figures.table(*two_days, ("procedure",))
    by_day = await figures.table(*two_days, ("day",))
    (total,) = await figures.table(*two_days, ())

    assert [(r.procedure_code, r.day, *channels(r)) for r in every] == [
        ("1.001", DAY, 1, 1, 1, 0), ("1.001", date(2026, 11, 24), 1, 0, 0, 0),
        ("2.002", DAY, 1, 0, 0, 1),
    ]  # fmt: skip
    assert [(r.procedure_code, *channels(r)) for r in by_procedure] == [
        ("1.001", 2, 1, 1, 0), ("2.002", 1, 0, 0, 1),
    ]  # fmt: skip
    assert [(r.day, *channels(r)) for r in by_day] == [
        (DAY, 2, 1, 1, 1), (date(2026, 11, 24), 1, 0, 0, 0),
    ]  # fmt: skip
    assert channels(total) == (3, 1, 1, 1)
    assert total.notices_delivered == 4


async def test_zalos_cost_is_its_notices_delivered_at_the_zns_price_and_the_total_adds_sms(
    store, clock, composer
):
    await seeded(store, clock, composer)

    (total,) = await Figures(store.database, TZ, PRICE, ZNS_PRICE).table(
        DAY, date(2026, 11, 24), ()
    )

    assert (total.segments, total.cost_vnd) == (1, PRICE)
    assert total.zalo_cost_vnd == 3 * ZNS_PRICE
    assert total.total_cost_vnd == PRICE + 3 * ZNS_PRICE


async def test_without_a_zns_price_zalo_costs_nothing(store, clock, composer):
    await notice(store, composer, "a1")
    await delivered_by_zalo(store, clock, "a1")

    (row,) = await Figures(store.database, TZ, PRICE).table(DAY, DAY, ())

    assert (row.zalo_delivered, row.zalo_cost_vnd, row.total_cost_vnd) == (1, 0, 0)


async def test_a_range_with_no_figures_reads_noughts_for_the_channels(store):
    (row,) = await table(store, ())

    assert channels(row) == (0, 0, 0, 0)
    assert (row.zalo_cost_vnd, row.total_cost_vnd) == (0, 0)


async def test_a_store_from_before_the_channels_reads_its_sms_figures_and_no_channel(tmp_path):
    path = tmp_path / "previous.db"
    store_before_channels(path)
    with sqlite3.connect(path) as conn:  # a day's SMS figures of the previous release
        conn.execute(
            """INSERT INTO figures (day, agency, procedure_key, delivered, segments)
               VALUES (?, 'SCT', '1.001', 2, 3)""",
            [(DAY - date(1970, 1, 1)).days],
        )

    async with Store.open(path, readonly=True) as previous:
        rows = {
            by: await Figures(previous.database, TZ, PRICE, ZNS_PRICE).table(DAY, DAY, by)
            for by in [(), ("agency",), ALL]
        }

    for (row,) in rows.values():
        assert (row.notices_delivered, row.segments, row.cost_vnd) == (2, 3, 3 * PRICE)
        assert channels(row) == (0, 0, 0, 0)
        assert row.total_cost_vnd == 3 * PRICE
