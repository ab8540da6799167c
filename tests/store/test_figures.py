"""The reconciliation figures: kept by the schema's triggers in the same transaction as
every change of a message or a dossier, read per agency, procedure and local day."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from gateway.compose.composer import Composer
from gateway.domain.message import MoRecord
from gateway.store.figures import NOT_DELIVERED, Figures
from gateway.store.retention import purge_once
from gateway.store.store import Store
from tests.support.clock import Clock, at
from tests.support.figures import ALL, PRICE, TZ, dossier, figure_composer, give_up, notice, settle

DAY = date(2026, 11, 23)


@pytest.fixture
def clock() -> Clock:
    return Clock(at(10))


@pytest.fixture
async def store(tmp_path, store_location, clock):
    async with Store.open(store_location, clock=clock) as store:
        yield store


@pytest.fixture
def figures(store) -> Figures:
    return Figures(store.database, TZ, PRICE)


@pytest.fixture
def composer(clock) -> Composer:
    return figure_composer(clock)


async def only(figures: Figures, by=ALL, since=DAY, until=DAY):
    (row,) = await figures.table(since, until, by)
    return row


# -- dossiers ---------------------------------------------------------------------------


async def test_a_dossier_counts_as_received_once_however_many_events_it_has(store, figures):
    await store.dossiers.record_intake(dossiers=[dossier()])
    await store.dossiers.record_intake(dossiers=[dossier(status="processing")])
    await store.dossiers.record_intake(dossiers=[dossier(status="processing")])

    row = await only(figures)
    assert (row.dossiers_received, row.dossiers_resolved) == (1, 0)


async def test_a_dossier_counts_as_resolved_on_the_day_it_enters_result_ready(store, figures):
    await store.dossiers.record_intake(dossiers=[dossier()])
    ready = dossier(status="result_ready", when="2026-11-24T15:00:00+07:00")
    await store.dossiers.record_intake(dossiers=[ready])
    await store.dossiers.record_intake(dossiers=[ready])  # a redelivered event
    await store.dossiers.record_intake(dossiers=[dataclasses.replace(ready, status="returned")])

    first, second = await figures.table(DAY, date(2026, 11, 24), ["day"])
    assert (first.day, first.dossiers_received, first.dossiers_resolved) == (DAY, 1, 0)
    assert (second.day, second.dossiers_received, second.dossiers_resolved) == (
        date(2026, 11, 24), 0, 1,
    )  # fmt: skip


async def test_a_dossier_returned_without_result_ready_seen_counts_as_resolved(store, figures):
    await store.dossiers.record_intake(dossiers=[dossier(status="returned")])

    assert (await only(figures)).dossiers_resolved == 1


# -- notices ----------------------------------------------------------------------------


async def test_a_notice_delivered_after_submitted_counts_once_as_delivered(
    store, figures, composer, clock
):
    await notice(store, composer, dossier(status="result_ready"), "ev-1")
    await settle(store, clock, "ev-1", "enroute", "delivered")

    row = await only(figures)
    assert (row.notices_queued, row.notices_delivered, row.not_delivered_total) == (1, 1, 0)
    assert (row.segments, row.cost_vnd) == (1, PRICE)


async def test_a_queued_notice_counts_as_queued_and_neither_delivered_nor_not(
    store, figures, composer
):
    await notice(store, composer, dossier(status="result_ready"), "ev-1")

    row = await only(figures)
    assert (row.notices_queued, row.notices_delivered, row.not_delivered_total) == (1, 0, 0)
    assert row.segments == 0  # nothing sent yet, nothing billed


@pytest.mark.parametrize(
    ("phone", "reason"),
    [("02363822123", "landline"), ("09051", "invalid_number"), (None, "no_number")],
)
async def test_a_notice_refused_for_its_number_counts_under_that_reason(
    store, figures, composer, phone, reason
):
    await notice(store, composer, dossier(status="result_ready", phone=phone), "ev-1")

    row = await only(figures)
    assert row.not_delivered == {r: int(r == reason) for r in NOT_DELIVERED}
    assert (row.notices_queued, row.segments) == (0, 0)


@pytest.mark.parametrize("receipt", ["undeliverable", "expired"])
async def test_a_notice_the_carrier_did_not_deliver_counts_under_its_receipt(
    store, figures, composer, clock, receipt
):
    await notice(store, composer, dossier(status="result_ready"), "ev-1")
    await settle(store, clock, "ev-1", receipt)

    row = await only(figures)
    assert row.not_delivered == {r: int(r == receipt) for r in NOT_DELIVERED}
    assert (row.notices_queued, row.notices_delivered, row.segments) == (1, 0, 1)


@pytest.mark.parametrize("state", ["failed", "expired"])
async def test_a_notice_the_sender_gave_up_counts_under_its_state(
    store, figures, composer, clock, state
):
    await notice(store, composer, dossier(status="result_ready"), "ev-1")
    await give_up(store, clock, "ev-1", state)

    row = await only(figures)
    assert row.not_delivered == {r: int(r == state) for r in NOT_DELIVERED}
    assert row.segments == 0


async def test_a_job_refused_for_another_reason_than_its_number_counts_as_failed(
    store, figures, composer
):
    refused = composer.rejected("SCT", ref="job-1", kind="sms", reason="text: too long")
    await store.dossiers.record_intake(messages=[refused])

    (row,) = await figures.table(DAY, DAY, ["agency"])
    assert row.not_delivered["failed"] == 1


async def test_a_skipped_notice_counts_for_nothing(store, figures, composer):
    row = dossier(status="result_ready")
    skipped = composer.skipped("result", row, event_id="ev-1", ref="ev-1", reason="same day")
    await store.dossiers.record_intake(dossiers=[row], messages=[skipped])

    found = await only(figures)
    assert (found.notices_queued, found.not_delivered_total, found.notices_delivered) == (0, 0, 0)


async def test_an_answered_mckh_lookup_counts_as_a_lookup_not_a_notice(
    store, figures, composer, clock
):
    await store.dossiers.record_intake(dossiers=[dossier()])
    for n, outcome in enumerate(["answered", "not_understood"]):
        reply = composer.text(
            "SCT", ref=f"mo:{n}", kind="mo_reply", to="0905123456", text="x", receipt_no="000123"
        )
        mo = MoRecord(clock(), "84905123456", "8083", "MCKH 000123", "MCKH", outcome, reply.ref)
        await store.mo_log.record_mos([(mo, reply)])

    row = await only(figures)
    assert (row.lookups_answered, row.notices_queued, row.procedure_code) == (1, 0, "1.001")


# -- procedures -------------------------------------------------------------------------


async def test_two_agencies_with_the_same_procedure_code_are_kept_apart(store, figures, composer):
    await notice(store, composer, dossier("A1", agency="SCT", status="result_ready"), "a")
    await notice(store, composer, dossier("B1", agency="STP", status="result_ready"), "b")

    rows = await figures.table(DAY, DAY, ["agency", "procedure"])
    assert [(r.agency, r.procedure_code, r.dossiers_resolved, r.notices_queued) for r in rows] == [
        ("SCT", "1.001", 1, 1),
        ("STP", "1.001", 1, 1),
    ]


async def test_the_same_procedure_name_with_two_codes_is_two_procedures(store, figures, composer):
    await notice(store, composer, dossier("A1", code="1.001", status="result_ready"), "a")
    await notice(store, composer, dossier("A2", code="2.002", status="result_ready"), "b")

    rows = await figures.table(DAY, DAY, ["procedure"])
    assert [(r.procedure_code, r.procedure_name) for r in rows] == [
        ("1.001", "Cấp giấy phép"),
        ("2.002", "Cấp giấy phép"),
    ]


async def test_a_procedure_without_a_code_is_known_by_its_name(store, figures, composer):
    await notice(store, composer, dossier(code=None, status="result_ready"), "a")

    row = await only(figures, ["procedure"])
    assert (row.procedure_code, row.procedure_name, row.notices_queued) == (
        "Cấp giấy phép", "Cấp giấy phép", 1,
    )  # fmt: skip


# -- days, groupings, filters -----------------------------------------------------------


async def test_hours_group_into_local_days_of_the_configured_zone(store, figures, clock):
    late = dossier("A1", when="2026-11-23T23:30:00+07:00")  # 16:30 UTC, the 23rd
    early = dossier("A2", when="2026-11-24T00:30:00+07:00")  # 17:30 UTC, still the 23rd in UTC
    await store.dossiers.record_intake(dossiers=[late, early])

    rows = await figures.table(DAY, date(2026, 11, 24), ["day"])
    assert [(r.day, r.dossiers_received) for r in rows] == [(DAY, 1), (date(2026, 11, 24), 1)]


async def test_days_are_cut_at_the_zone_the_daemon_follows(store, figures, composer, clock):
    await store.figure_days.follow(ZoneInfo("UTC"))
    utc_evening = datetime(2026, 11, 23, 20, tzinfo=ZoneInfo("UTC"))  # 03:00 the 24th in Vietnam
    clock.now = utc_evening.timestamp()
    await notice(store, composer, dossier(status="result_ready"), "a1")

    (row,) = await figures.table(date(2026, 11, 22), date(2026, 11, 25), ["day"])
    assert (row.day, row.notices_queued) == (DAY, 1)


async def test_a_message_settled_after_the_zone_changed_stays_on_the_day_it_was_counted(
    store, figures, composer, clock
):
    clock.now = datetime(2026, 11, 24, 3, tzinfo=TZ).timestamp()  # 20:00 the 23rd in UTC
    await notice(store, composer, dossier(status="result_ready"), "a1")
    await store.figure_days.follow(ZoneInfo("UTC"))
    await settle(store, clock, "a1", "delivered")

    rows = await figures.table(DAY, date(2026, 11, 24), ["day"])
    assert [(r.day, r.notices_queued, r.notices_delivered) for r in rows] == [
        (DAY, 0, 0),  # the dossier's day: received and resolved, no notice
        (date(2026, 11, 24), 1, 1),
    ]


async def test_no_grouping_gives_one_row_of_totals(store, figures):
    await store.dossiers.record_intake(dossiers=[dossier("A1"), dossier("B1", agency="STP")])

    row = await only(figures, [])
    assert (row.agency, row.procedure_code, row.day, row.dossiers_received) == (
        None, None, None, 2,
    )  # fmt: skip


async def test_days_outside_the_range_are_left_out(store, figures):
    await store.dossiers.record_intake(dossiers=[dossier(when="2026-11-22T23:59:00+07:00")])

    assert (await only(figures, [])).dossiers_received == 0


async def test_the_agency_filter_keeps_only_those_agencies(store, figures):
    await store.dossiers.record_intake(dossiers=[dossier("A1"), dossier("B1", agency="STP")])

    rows = await figures.table(DAY, DAY, ["agency"], agencies=["STP"])
    assert [r.agency for r in rows] == ["STP"]
    assert await figures.agencies() == ["SCT", "STP"]


async def test_delivered_ratio_is_delivered_per_resolved_and_none_without_resolved(
    store, figures, composer, clock
):
    await store.dossiers.record_intake(dossiers=[dossier("A1", status="result_ready")])
    await notice(store, composer, dossier("A2", status="result_ready"), "a2")
    await settle(store, clock, "a2", "delivered")

    assert (await only(figures)).delivered_ratio == 0.5
    await store.dossiers.record_intake(dossiers=[dossier("S1", agency="STP")])
    rows = await figures.table(DAY, DAY, ["agency"])
    assert [r.delivered_ratio for r in rows] == [0.5, None]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"by": ["agency", "week"]}, "unknown grouping 'week'"),
        ({"until": date(2026, 11, 22)}, "ends (2026-11-22) before it starts"),
    ],
)
async def test_a_bad_table_request_is_refused_with_the_reason(figures, kwargs, message):
    request = {"since": DAY, "until": DAY, "by": ["agency"], **kwargs}

    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        await figures.table(**request)


# -- failed notices ---------------------------------------------------------------------


async def test_failed_lists_each_undelivered_notice_with_masked_number_and_reason(
    store, figures, composer, clock
):
    await notice(store, composer, dossier("A1", status="result_ready", phone=None), "a1")
    await notice(store, composer, dossier("A2", status="result_ready"), "a2")
    clock.now = at(11)
    await settle(store, clock, "a2", "undeliverable")
    await notice(store, composer, dossier("A3", status="result_ready"), "a3")
    await settle(store, clock, "a3", "delivered")

    found = await figures.failed(DAY, DAY)

    assert [(f.ref, f.receipt_no, f.masked_number, f.reason, f.state) for f in found] == [
        ("a1", "A1", None, "no_number", "rejected"),
        ("a2", "A2", "8490*****56", "undeliverable", "undeliverable"),
    ]
    assert found[1].at == datetime(2026, 11, 23, 11, tzinfo=TZ)
    assert (found[1].procedure_code, found[1].procedure_name) == ("1.001", "Cấp giấy phép")
    assert [f.ref for f in await figures.failed(DAY, DAY, limit=1, offset=1)] == ["a2"]
    assert await figures.failed(DAY, DAY, agencies=["STP"]) == []


async def test_failed_lists_the_notices_the_table_counts_on_those_days(
    store, figures, composer, clock
):
    await store.figure_days.follow(ZoneInfo("UTC"))  # the daemon's days, not the reader's
    clock.now = datetime(2026, 11, 24, 3, tzinfo=TZ).timestamp()  # the 23rd in UTC
    await notice(store, composer, dossier("A1", status="result_ready", phone=None), "a1")

    (row,) = await figures.table(DAY, DAY, [])
    assert row.not_delivered_total == 1
    assert [f.ref for f in await figures.failed(DAY, DAY)] == ["a1"]
    assert await figures.failed(date(2026, 11, 24), date(2026, 11, 24)) == []


@pytest.mark.parametrize(("limit", "offset"), [(-1, 0), (10, -1)])
async def test_a_negative_page_of_failed_notices_is_refused(figures, limit, offset):
    with pytest.raises(ValueError, match="cannot be negative"):
        await figures.failed(DAY, DAY, limit=limit, offset=offset)


async def test_failed_notices_of_a_range_ending_before_it_starts_are_refused(figures):
    with pytest.raises(ValueError, match="before it starts"):
        await figures.failed(DAY, date(2026, 11, 22))


# -- retention --------------------------------------------------------------------------


async def test_a_purged_period_reports_the_same_figures(store, figures, composer, clock):
    await store.dossiers.record_intake(dossiers=[dossier("A0")])
    await notice(store, composer, dossier("A1", status="result_ready", phone="0236382212"), "a1")
    await notice(store, composer, dossier("A2", status="result_ready"), "a2")
    await settle(store, clock, "a2", "delivered")
    before = await figures.table(DAY, DAY, ALL)

    purged = await purge_once(store.retention, 30, now=at(12) + 31 * 86400)

    assert purged["messages"] == 2 and purged["dossiers"] == 3
    assert await figures.table(DAY, DAY, ALL) == before
    assert [f.masked_number for f in await figures.failed(DAY, DAY)] == [None]


# -- counted once, and the ratio over result notices ------------------------------------


async def test_a_dossier_resolved_reopened_and_resolved_again_counts_as_resolved_once(
    store, figures
):
    await store.dossiers.record_intake(dossiers=[dossier()])
    await store.dossiers.record_intake(dossiers=[dossier(status="result_ready")])
    await store.dossiers.record_intake(dossiers=[dossier(status="processing")])
    await store.dossiers.record_intake(dossiers=[dossier(status="result_ready")])
    rows = await figures.table(DAY, DAY, ())
    assert [(r.dossiers_received, r.dossiers_resolved) for r in rows] == [(1, 1)]


async def test_the_delivered_per_resolved_ratio_counts_result_notices_not_every_notice(
    store, figures, clock
):
    """A supplement request delivered, then the result notice undeliverable: no resolved
    dossier's citizen was told of the result, so the ratio is 0, not 1."""
    composer = figure_composer(clock)
    asked = dossier(status="needs_supplement")
    message = composer.notice("supplement", asked, event_id="s1", ref="s1")
    await store.dossiers.record_intake(dossiers=[asked], messages=[message])
    await settle(store, clock, "s1", "delivered")
    await notice(store, composer, dossier(status="result_ready"), "r1")
    await settle(store, clock, "r1", "undeliverable")
    (row,) = await figures.table(DAY, DAY, ())
    assert (row.dossiers_resolved, row.results_delivered, row.delivered_ratio) == (1, 0, 0.0)
    assert row.notices_delivered == 1  # the notice totals still count every kind
