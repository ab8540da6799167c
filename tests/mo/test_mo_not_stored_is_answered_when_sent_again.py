"""An MO whose commit failed (the store busy, the disk full) was not acknowledged: the SMSC
delivers it again, Zalo sends its webhook again (it got a 500). That second one is the MO
to answer, not a duplicate of one the guard counted but the store never kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.app import composer_settings, dispatcher_settings
from gateway.compose.composer import Composer
from gateway.mo.dispatcher import Dispatcher
from gateway.smpp.inbound import Mo
from gateway.store.store import Store
from tests.support.clock import NOON
from tests.support.mo import config, dossier
from tests.support.store_reads import db_rows

RECEIPT = "0101701234"


@pytest.mark.parametrize("by", ["zalo_chat", "sms"])
async def test_a_lookup_whose_commit_failed_is_answered_when_it_is_sent_again(
    tmp_path: Path, store_location, by: str
):
    cfg = config()
    now = [NOON]
    async with Store.open(store_location) as store:
        await store.dossiers.record_intake(dossiers=[dossier(RECEIPT)])
        real = store.mo_log.record_mos
        failures = [1]

        async def flaky(batch):
            if failures[0]:
                failures[0] -= 1
                raise RuntimeError("database is locked")
            return await real(batch)

        store.mo_log.record_mos = flaky  # type: ignore[method-assign]
        composer = Composer(composer_settings(cfg), clock=lambda: now[0])
        async with Dispatcher(
            store.mo_log, store.dossiers, composer, dispatcher_settings(cfg),
            clock=lambda: now[0],
        ) as dispatcher:  # fmt: skip

            async def ask() -> None:
                if by == "sms":
                    await dispatcher.receive(Mo("0905123456", "8083", f"MCKH {RECEIPT}"))
                else:
                    await dispatcher.receive_chat("u-1", f"MCKH {RECEIPT}")

            with pytest.raises(RuntimeError, match="database is locked"):
                await ask()  # Zalo gets a 500 / the SMSC no deliver_sm_resp
            now[0] += 5  # Zalo sends the webhook again / the SMSC redelivers the MO
            await ask()

        replies = await db_rows(store, "SELECT kind FROM messages WHERE kind = 'mo_reply'")
        outcomes = await db_rows(store, "SELECT outcome FROM mo_log")
    assert replies == [("mo_reply",)], outcomes
