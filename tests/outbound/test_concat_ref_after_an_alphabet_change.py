"""A message queued as one part may go as several: the sender cuts the stored text with
the encoding of the daemon running now (`Sender._parts`, `Outgoing.of`), and a restart
may have changed `smpp.default_alphabet` (gsm7 -> latin1, for a carrier that reads
data_coding 0 as Latin-1) with notices still queued (quiet hours hold a night's worth).
A text the old alphabet took whole (160 septets) that the new one cannot write goes as
UCS-2 in parts. Such parts must still carry a reference of their own: parts of two
messages to one phone with the same reference are joined by the handset into one."""

from __future__ import annotations

import asyncio
import dataclasses

from gateway.app import composer_settings, encoding
from gateway.compose.composer import Composer
from gateway.outbound.sender import Sender
from gateway.smpp.concat import split_udh
from gateway.smpp.session import Session
from gateway.smpp.sim import SimConfig, SmscSimulator
from gateway.store.store import Store
from tests.support.clock import NOON, Clock
from tests.support.outbox import without_quiet_hours
from tests.support.session import ignore, session_config
from tests.support.wait import eventually

PHONE = "0905123456"
# 100 GSM-7 characters, one with "€" (GSM-7's extension table has it, Latin-1 has not):
# one part in GSM-7, two in UCS-2 (more than 70 units).
TEXT = "Phi le phi: 50€. " + "Thong bao ho so " * 5 + "x" * 3


async def test_notices_queued_whole_and_cut_after_an_alphabet_change_take_their_own_references(
    store_location,
):
    before = without_quiet_hours()
    after = dataclasses.replace(
        before, smpp=dataclasses.replace(before.smpp, default_alphabet="latin1")
    )
    clock = Clock(NOON)
    composer = Composer(composer_settings(before), clock=clock)
    queued = [composer.text("SCT", ref=f"j{n}", kind="sms", to=PHONE, text=TEXT) for n in range(2)]
    assert [m.segments for m in queued] == [1, 1]  # counted with the alphabet of then
    async with (
        SmscSimulator(SimConfig(receipt_delay=0.01)) as smsc,
        Store.open(store_location, clock=clock) as store,
        Session(session_config(smsc.port), ignore) as session,
    ):
        await store.dossiers.record_intake(messages=queued)
        # The daemon restarted with the new alphabet sends what was queued.
        sender = Sender(store.outbox, session, after.retry, encoding=encoding(after), clock=clock)
        task = asyncio.create_task(sender.run())
        try:
            await eventually(lambda: len(smsc.records) >= 4, 10)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    heads = [split_udh(r.short_message)[0] for r in smsc.records]
    assert all(h is not None for h in heads), "each part is concatenated"
    references = {h.reference for h in heads if h is not None}
    assert len(references) == 2, (
        f"the two messages' parts carry references {references}: the phone joins them"
    )
