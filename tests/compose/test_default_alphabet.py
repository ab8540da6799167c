"""`smpp.default_alphabet: latin1`, for SMSCs that read data_coding 0 as Latin-1.

The text still goes with data_coding 0 (the SMSC default alphabet, which the carrier turns
into GSM-7 on the air) but as Latin-1 octets, as Kannel's `alt-charset` does, so '@', '$',
'_' and '£' arrive as themselves instead of NUL and control characters; parts keep the
GSM-7 limits. Over real TCP the simulator's records are decoded the way such an SMSC
reads them.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.app import composer_settings, encoding
from gateway.compose.composer import Composer
from gateway.outbound.sender import Sender
from gateway.settings.config import ConfigError, default_config, parse_config
from gateway.smpp.session import Session
from gateway.smpp.sim import SimConfig, SmscSimulator, SubmitRecord
from gateway.smpp.text import GSM7, UCS2, split_udh
from gateway.store.store import Store
from tests.support.clock import NOON
from tests.support.outbox import config as outbox_config
from tests.support.session import session_config
from tests.support.wait import eventually

SYMBOLS = "Email: motcua@sct.gov.vn, phi $5 _ma_ £3 ¥ è é ù Ä Ö Ñ Ü § ¿ [x] {y} ~ ^ | \\"


def test_default_alphabet_defaults_to_gsm7():
    assert (
        parse_config("agencies:\n  SCT:\n    name: SCT\n", env={}).smpp.default_alphabet == "gsm7"
    )


def test_latin1_is_read_from_the_smpp_section():
    text = "smpp:\n  default_alphabet: latin1\nagencies:\n  SCT:\n    name: SCT\n"

    assert parse_config(text, env={}).smpp.default_alphabet == "latin1"


def test_unknown_alphabet_is_refused_with_the_choices():
    text = "smpp:\n  default_alphabet: ascii\nagencies:\n  SCT:\n    name: SCT\n"

    with pytest.raises(ConfigError, match=r"smpp\.default_alphabet.*gsm7.*latin1"):
        parse_config(text, env={})


class Wire:
    def __init__(self, store: Store, smsc: SmscSimulator, composer: Composer) -> None:
        self.store, self.smsc, self.composer = store, smsc, composer

    async def send(self, text: str, count: int = 1) -> list[SubmitRecord]:
        # STP keeps diacritics: the symbols reach the encoder as written.
        message = self.composer.text("STP", ref="job-1", kind="sms", to="0905123456", text=text)
        await self.store.dossiers.record_intake(messages=[message])
        await eventually(lambda: len(self.smsc.records) >= count)
        await asyncio.sleep(0.05)  # nothing more than `count` parts follows
        return list(self.smsc.records)


@pytest.fixture(params=["gsm7", "latin1"])
async def wire(request, tmp_path: Path, store_location) -> AsyncIterator[tuple[str, Wire]]:
    alphabet = request.param
    cfg = outbox_config()
    cfg = dataclasses.replace(cfg, smpp=dataclasses.replace(cfg.smpp, default_alphabet=alphabet))
    async with (
        SmscSimulator(SimConfig(receipt_delay=0.01)) as smsc,
        Store.open(store_location) as store,
    ):

        async def ignore(item: object) -> None:
            return None

        session = Session(session_config(smsc.port), ignore)
        async with session:
            await eventually(lambda: smsc.stats.binds >= 1)
            sender = Sender(
                store.outbox,
                session,
                cfg.retry,
                encoding=encoding(cfg),
                clock=lambda: NOON,
            )
            task = asyncio.create_task(sender.run())
            try:
                yield (
                    alphabet,
                    Wire(store, smsc, Composer(composer_settings(cfg), clock=lambda: NOON)),
                )
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)


def as_latin1_smsc_reads(records: list[SubmitRecord]) -> str:
    return "".join(record.body.decode("latin-1") for record in records)


async def test_at_sign_and_friends_arrive_as_themselves_at_a_latin1_smsc(wire):
    alphabet, rig = wire
    (record,) = await rig.send(SYMBOLS)

    assert record.data_coding == GSM7
    if alphabet == "latin1":
        assert as_latin1_smsc_reads([record]) == SYMBOLS
    else:
        # The standard unpacked GSM-7 is what a GSM-7 SMSC reads ...
        assert record.text == SYMBOLS
        # ... and what a Latin-1 SMSC would garble: '@' is NUL there.
        assert as_latin1_smsc_reads([record]) != SYMBOLS
        assert b"\x00" in record.body


async def test_160_characters_are_one_part(wire):
    _, rig = wire
    (record,) = await rig.send("@" * 160)

    assert (record.esm_class & 0x40, len(record.short_message)) == (0, 160)


async def test_long_text_goes_in_153_septet_parts_that_reassemble(wire):
    """Parts keep the GSM-7 limits (the SMSC packs septets on the air): an extension
    character counts two septets and is never cut from its escape."""
    alphabet, rig = wire
    text = ("Ho so @ [MCKH] " * 20).strip()  # 339 septets
    records = await rig.send(text, count=3)

    assert len(records) == 3
    assert {split_udh(r.short_message)[0].total for r in records} == {3}
    if alphabet == "latin1":
        assert as_latin1_smsc_reads(records) == text
        first = records[0].body.decode("latin-1")
        assert len(first) + first.count("[") + first.count("]") <= 153
    else:
        assert "".join(r.text for r in records) == text


async def test_text_outside_latin1_goes_as_ucs2(wire):
    """€ and the Greek capitals are GSM-7 but not Latin-1: for a Latin-1 SMSC, UCS-2."""
    alphabet, rig = wire
    (record,) = await rig.send("Phi 5 €, Δ")

    assert record.data_coding == (UCS2 if alphabet == "latin1" else GSM7)
    assert record.text == "Phi 5 €, Δ"


def test_default_configuration_still_sends_gsm7():
    assert default_config().smpp.default_alphabet == "gsm7"
