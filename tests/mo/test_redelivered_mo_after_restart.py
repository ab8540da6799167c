"""An MO the SMSC delivers again after a restart is a duplicate whatever form its sender
and text came in: the guard is primed from the MO log with the same key it checks
(the log keeps the source_addr as the SMSC wrote it, the guard keys the normalised
number: a national-form sender's MO was answered, and its lookup counted, a second time)."""

from __future__ import annotations

import asyncio

from tests.support.mo import config, dossier, running, with_dossiers
from tests.support.store_reads import db_rows

NATIONAL_FORM = "0905123456"  # CITIZEN as some SMSCs give source_addr (TON national)


async def _replies(rig) -> int:
    rows = await db_rows(rig.store, "SELECT COUNT(*) FROM messages WHERE kind = 'mo_reply'")
    return rows[0][0]


async def test_a_national_form_sender_redelivered_after_a_restart_is_a_duplicate(
    tmp_path, store_location
):
    db = store_location
    async with running(db, config()) as rig:
        await with_dossiers(rig, dossier())
        await rig.mo("MCKH 0101701234", source=NATIONAL_FORM)
        await rig.reply()
        await rig.sent_and_recorded()
    async with running(db, config()) as rig:
        await rig.mo("MCKH 0101701234", source=NATIONAL_FORM)
        await asyncio.sleep(0.3)
        outcomes = [o for _, _, o in await rig.mo_log()]
        replies = await _replies(rig)
        lookups = await db_rows(rig.store, "SELECT COALESCE(SUM(lookups), 0) FROM figures")
    assert (outcomes, replies, lookups[0][0]) == (["answered", "duplicate"], 1, 1), (
        f"outcomes {outcomes}, {replies} replies (each a paid SMS), {lookups[0][0]} lookups"
        " counted, for one MO delivered twice"
    )
