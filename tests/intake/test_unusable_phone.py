"""A phone the desk typed badly (a note after the number, a tab, a whole paragraph) refuses
the notice, never the dossier event: the mirror still follows the dossier, so a citizen's
MCKH lookup finds it, and a later event with a good number sends the notice owed (SPEC,
"The MQTT contract")."""

from __future__ import annotations

import dataclasses
import json

import pytest

from gateway.app import composer_settings, dispatcher_settings
from gateway.compose.composer import Composer
from gateway.intake.consumer import Received
from gateway.intake.dossier import MAX_PHONE_KEPT
from gateway.mo.dispatcher import Dispatcher
from gateway.settings.config import Config, ScheduleConfig, default_config
from gateway.smpp.inbound import Mo
from gateway.store.store import Store
from tests.support.clock import NOON
from tests.support.intake import intake_on
from tests.support.store_reads import db_rows

GOOD = "0905 123 456"
UNUSABLE = [
    pytest.param("0905 123 456 (nha rieng, goi toi)", id="desk-note-33-chars"),
    pytest.param("0905\t123456", id="tab"),
    pytest.param("0905 123 456" + " x" * 5000, id="10-kb"),
]


def config() -> Config:
    return dataclasses.replace(
        default_config(), schedule=dataclasses.replace(ScheduleConfig(), quiet_hours=None)
    )


def event(event_id: str, phone: str, hour: int) -> Received:
    body = {
        "event_id": event_id, "receipt_no": "0101701234", "agency": "SCT",
        "procedure": "Cấp phép", "phone": phone, "step": "Trả kết quả",
        "status": "result_ready", "occurred_at": f"2026-11-22T{hour:02d}:00:00+07:00",
    }  # fmt: skip
    return Received("motcua/SCT/dossier", json.dumps(body, ensure_ascii=False).encode())


async def take(store: Store, *items: Received) -> None:
    cfg = config()
    await intake_on(store, cfg).process(list(items))


async def outcomes(store: Store) -> list[tuple[str, str, str | None]]:
    sql = "SELECT ref, state, reason FROM messages ORDER BY id"
    return [tuple(row) for row in await db_rows(store, sql)]


@pytest.mark.parametrize("phone", UNUSABLE)
async def test_an_unusable_phone_refuses_the_notice_with_a_phone_reason(
    tmp_path, store_location, phone
):
    async with Store.open(store_location) as store:
        await take(store, event("e1", phone, 10))
        [(ref, state, reason)] = await outcomes(store)

    assert (ref, state) == ("e1:result", "rejected")
    assert reason.startswith("phone: ")


@pytest.mark.parametrize("phone", UNUSABLE)
async def test_the_dossier_of_an_unusable_phone_is_mirrored_and_answers_mckh(
    tmp_path, store_location, phone
):
    cfg = config()
    async with Store.open(store_location) as store:
        await take(store, event("e1", phone, 10))
        async with Dispatcher(
            store.mo_log,
            store.dossiers,
            Composer(composer_settings(cfg), clock=lambda: NOON),
            dispatcher_settings(cfg),
            clock=lambda: NOON,
        ) as mo:
            await mo.receive(Mo(source="84912345678", destination="8083", text="MCKH 0101701234"))
        rows = await db_rows(store, "SELECT kind, text FROM messages ORDER BY id")

    assert [kind for kind, _ in rows] == ["result", "mo_reply"]
    assert "Tra ket qua" in rows[1][1] and "Khong tim thay" not in rows[1][1]


@pytest.mark.parametrize("phone", UNUSABLE)
async def test_a_later_event_with_a_good_phone_sends_the_notice_refused(
    tmp_path, store_location, phone
):
    async with Store.open(store_location) as store:
        await take(store, event("e1", phone, 10))
        await take(store, event("e2", GOOD, 11))
        states = [(ref, state) for ref, state, _ in await outcomes(store)]

    assert states == [("e1:result", "rejected"), ("e2:result", "queued")]


async def test_a_phone_longer_than_the_store_keeps_is_cut_and_still_refused(
    tmp_path, store_location
):
    async with Store.open(store_location) as store:
        await take(store, event("e1", "0905123456" * 1024, 10))
        [(kept,)] = await db_rows(store, "SELECT phone FROM dossiers")
        [(_, state, reason)] = await outcomes(store)

    assert len(kept) == MAX_PHONE_KEPT
    assert state == "rejected" and reason.startswith("phone: too_long")


async def test_a_notice_refused_for_its_phone_gives_the_segments_its_text_takes(
    tmp_path, store_location
):
    async with Store.open(store_location) as store:
        await take(store, event("e1", "0905\t123456", 10))
        [(_, _, payload)] = await store.statuses.pending(10)

    assert json.loads(payload)["segments"] == 1  # docs/schema/status.json: in every state


async def test_a_phone_with_a_nul_refuses_the_notice_and_the_mirror_follows(store_location):
    """A phone copied with a NUL in it (a fixed-width field, JSON's \\u0000) refuses the
    notice, never the event, on every store: on PostgreSQL, whose text cannot hold a NUL,
    the store keeps U+FFFD in its place."""
    async with Store.open(store_location) as store:
        await take(store, event("e1", "0905 123 456\u0000", 10))
        mirrored = await db_rows(store, "SELECT status, step FROM dossiers")
        messages = await db_rows(store, "SELECT ref, state FROM messages")
    assert [tuple(r) for r in mirrored] == [("result_ready", "Trả kết quả")]
    assert [tuple(r) for r in messages] == [("e1:result", "rejected")]
