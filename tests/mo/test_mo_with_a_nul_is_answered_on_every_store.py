"""An MO whose text holds a NUL (an IA5/ASCII short_message padded as a C string, a
UCS-2 U+0000; `smpp.text.decode` never refuses bytes) is stored and answered on every
store. PostgreSQL's text cannot hold a NUL: the store sends it as U+FFFD, so the MO is
committed, its deliver_sm answered and the citizen's paid lookup replied to (on SQLite the
NUL is kept)."""

from __future__ import annotations

from gateway.app import composer_settings, dispatcher_settings
from gateway.compose.composer import Composer
from gateway.mo.dispatcher import Dispatcher
from gateway.smpp.inbound import Mo
from gateway.store.store import Store
from tests.support.clock import NOON
from tests.support.mo import config, dossier
from tests.support.store_reads import db_rows

RECEIPT = "0101701234"


async def test_a_lookup_with_a_trailing_nul_is_stored_and_answered(store_location):
    cfg = config()
    async with Store.open(store_location) as store:
        await store.dossiers.record_intake(dossiers=[dossier(RECEIPT)])
        composer = Composer(composer_settings(cfg), clock=lambda: NOON)
        async with Dispatcher(
            store.mo_log, store.dossiers, composer, dispatcher_settings(cfg),
            clock=lambda: NOON,
        ) as dispatcher:  # fmt: skip
            await dispatcher.receive(Mo("0905123456", "8083", f"MCKH {RECEIPT}\x00"))
        replies = await db_rows(store, "SELECT text FROM messages WHERE kind = 'mo_reply'")
        logged = await db_rows(store, "SELECT outcome FROM mo_log")
    assert len(logged) == 1
    assert len(replies) == 1 and RECEIPT in replies[0][0]


async def test_a_zalo_chat_lookup_with_a_nul_is_stored_and_answered(store_location):
    """The same question in the OA chat: Zalo gets a 500 and sends its webhook again."""
    cfg = config()
    async with Store.open(store_location) as store:
        await store.dossiers.record_intake(dossiers=[dossier(RECEIPT)])
        composer = Composer(composer_settings(cfg), clock=lambda: NOON)
        async with Dispatcher(
            store.mo_log, store.dossiers, composer, dispatcher_settings(cfg),
            clock=lambda: NOON,
        ) as dispatcher:  # fmt: skip
            await dispatcher.receive_chat("u-1", f"MCKH {RECEIPT}\u0000")
        replies = await db_rows(store, "SELECT text FROM messages WHERE kind = 'mo_reply'")
    assert len(replies) == 1 and RECEIPT in replies[0][0]
