"""Lookups from the Zalo Official Account's chat: the same dispatcher and handlers as an
MO, the reply back in the chat (no number, no SMS), a bare receipt number taken for the
lookup it means, and the same limits on a sender."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.app import composer_settings, dispatcher_settings
from gateway.compose.composer import Composer
from gateway.mo.dispatcher import Dispatcher
from gateway.store.store import Store
from tests.support.clock import NOON
from tests.support.mo import config, dossier
from tests.support.store_reads import db_rows

RECEIPT = "0101701234"
NATIONAL = "000.00.06.H56-231027-0361"
# The same answer as by SMS, word for word.
ANSWER = (
    "Ho so cua quy Ong/Ba (0101701234) hien dang o buoc Tham dinh ho so, "
    "trang thai ho so: Dung han."
)


@pytest.fixture
async def rig(tmp_path: Path, store_location) -> AsyncIterator[tuple[Dispatcher, Store]]:
    cfg = config(rate_limit=3)
    async with Store.open(store_location) as store:
        await store.dossiers.record_intake(dossiers=[dossier(RECEIPT), dossier(NATIONAL)])
        composer = Composer(composer_settings(cfg), clock=lambda: NOON)
        async with Dispatcher(
            store.mo_log, store.dossiers, composer, dispatcher_settings(cfg), clock=lambda: NOON
        ) as dispatcher:
            yield dispatcher, store


async def replies(store: Store) -> list[tuple]:
    return await db_rows(
        store,
        "SELECT channel, chat_user, phone, segments, state, text FROM messages ORDER BY id",
    )


async def test_a_lookup_in_the_chat_is_answered_in_the_chat(rig):
    dispatcher, store = rig

    await dispatcher.receive_chat("5012345678901234567", f"MCKH {RECEIPT}")

    ((channel, user, phone, segments, state, text),) = await replies(store)
    assert (channel, user, phone, segments, state) == (
        "zalo", "5012345678901234567", None, 0, "queued"
    )  # fmt: skip
    assert text == ANSWER


@pytest.mark.parametrize("pasted", [RECEIPT, f" {RECEIPT}\n", f"Mã hồ sơ: {RECEIPT}"])
async def test_a_bare_receipt_number_in_the_chat_is_a_lookup(rig, pasted):
    dispatcher, store = rig

    await dispatcher.receive_chat("u1", pasted)

    ((*_, text),) = await replies(store)
    assert text == ANSWER


async def test_a_text_with_no_number_in_the_chat_gets_the_help(rig):
    dispatcher, store = rig

    await dispatcher.receive_chat("u1", "Xin chào")

    ((*_, text),) = await replies(store)
    assert text.startswith("Tin nhan chua dung cu phap")


async def test_the_mo_log_keeps_the_chat_sender_and_the_outcome(rig):
    dispatcher, store = rig

    await dispatcher.receive_chat("u1", RECEIPT)

    rows = await db_rows(store, "SELECT sender, keyword, outcome FROM mo_log")
    assert rows == [("zalo:u1", "MCKH", "answered")]


async def test_a_chat_sender_over_the_rate_limit_gets_no_more_replies(rig):
    dispatcher, store = rig

    for n in range(5):
        await dispatcher.receive_chat("u1", f"MCKH {RECEIPT} lan {n}")

    assert len(await replies(store)) == 3
    outcomes = await db_rows(store, "SELECT outcome FROM mo_log ORDER BY id")
    assert [o for (o,) in outcomes][3:] == ["rate_limited", "rate_limited"]


async def test_two_chat_users_are_limited_apart(rig):
    dispatcher, store = rig

    for n in range(3):
        await dispatcher.receive_chat("u1", f"MCKH {RECEIPT} lan {n}")
    await dispatcher.receive_chat("u2", RECEIPT)

    assert len(await replies(store)) == 4
