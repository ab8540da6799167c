"""The segments a message is queued with are the submit_sm the sender writes for it.

The composer counts at intake and the sender cuts the parts at send time; both use one
`Encoding` built from `smpp.ref16` and `smpp.default_alphabet`. With a Latin-1 SMSC a
text with "€" (GSM-7, not Latin-1) goes as UCS-2: counted as GSM-7 it was one segment in
the store and the report, and two SMS on the bill.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json

from gateway.app import composer_settings, encoding
from gateway.compose.composer import Composer
from gateway.outbound.sender import Sender
from gateway.settings.config import Config, default_config
from gateway.smpp.session import Session
from gateway.smpp.sim import SimConfig, SmscSimulator
from gateway.smpp.text import GSM7, UCS2
from gateway.store.store import Store
from tests.support.session import ignore, session_config

# 9 × 13 septets (€ costs two) = 117: one GSM-7 SMS; 108 UCS-2 units: two parts.
EURO_TEXT = "Le phi 50 € " * 9


def config(**smpp: object) -> Config:
    base = default_config()
    return dataclasses.replace(
        base,
        smpp=dataclasses.replace(base.smpp, **smpp),
        schedule=dataclasses.replace(base.schedule, quiet_hours=None),
    )


async def send(store_location, cfg: Config, text: str) -> tuple[int, SmscSimulator]:
    """Queue `text`, let the sender submit it; (segments it was queued with, the SMSC)."""
    async with (
        SmscSimulator(SimConfig(receipt_delay=0.01)) as smsc,
        Store.open(store_location) as store,
    ):
        message = Composer(composer_settings(cfg)).text(
            "SCT", ref="job-1", kind="sms", to="0905123456", text=text
        )
        await store.dossiers.record_intake(messages=[message])
        async with Session(session_config(smsc.port), ignore) as session:
            sender = Sender(
                store.outbox,
                session,
                cfg.retry,
                encoding=encoding(cfg),
            )
            task = asyncio.create_task(sender.run())
            try:
                async with asyncio.timeout(5.0):
                    while (await store.outbox.counts()).get("submitted", 0) < 1:
                        await asyncio.sleep(0.02)
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        (queued,) = [
            json.loads(p)
            for _, _, p in await store.statuses.pending(100)
            if json.loads(p)["state"] == "queued"
        ]
        return queued["segments"], smsc


async def test_a_latin1_smsc_text_with_euro_is_counted_as_the_ucs2_parts_it_goes_as(store_location):
    segments, smsc = await send(store_location, config(default_alphabet="latin1"), EURO_TEXT)

    assert {r.data_coding for r in smsc.records} == {UCS2}
    assert segments == len(smsc.records) == 2


async def test_a_gsm7_smsc_text_with_euro_is_counted_as_its_one_gsm7_part(store_location):
    segments, smsc = await send(store_location, config(), EURO_TEXT)

    assert {r.data_coding for r in smsc.records} == {GSM7}
    assert segments == len(smsc.records) == 1


async def test_a_16_bit_reference_text_is_counted_as_the_parts_it_goes_as(store_location):
    """153 septets fit one 8-bit-reference part, but only 152 a 16-bit one."""
    segments, smsc = await send(store_location, config(ref16=True), "a" * 306)

    assert segments == len(smsc.records) == 3
