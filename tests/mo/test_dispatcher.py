"""MO → reply over real TCP: the simulator injects deliver_sm, the reply is a submit_sm.

Store, session, sender, tracker and dispatcher are wired as the daemon wires them; the
clock is fixed at noon on Monday 23/11/2026 (Asia/Ho_Chi_Minh) so "today" is known.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import MappingProxyType

import pytest

import handlers
from gateway.settings.config import Config, default_config
from gateway.smpp.sim import SimConfig, SmscSimulator
from gateway.smpp.text import segment_count
from tests.support.mo import CITIZEN, NATIONAL, MoRig, config, dossier, running, with_dossiers


@pytest.fixture
def cfg() -> Config:
    return config()


@pytest.fixture
async def rig(tmp_path: Path, store_location, cfg: Config) -> AsyncIterator[MoRig]:
    async with running(store_location, cfg) as rig:
        yield rig


# -- MCKH --------------------------------------------------------------------------------


async def test_found_and_on_time_is_answered_with_the_spec_text(rig):
    await with_dossiers(rig, dossier())

    await rig.mo("MCKH 0101701234")
    reply = await rig.reply()

    assert reply.text == (
        "Ho so cua quy Ong/Ba (0101701234) hien dang o buoc Tham dinh ho so, "
        "trang thai ho so: Dung han."
    )
    assert segment_count(reply.text) == 1


async def test_reply_goes_from_the_shortcode_to_the_sender(rig):
    await with_dossiers(rig, dossier())

    await rig.mo("MCKH 0101701234")
    reply = await rig.reply()

    assert (reply.source, reply.source_ton) == ("8083", 3)
    assert (reply.destination, reply.dest_ton, reply.dest_npi) == (CITIZEN, 1, 1)
    assert reply.registered_delivery & 1


async def test_open_dossier_past_its_due_date_is_late(rig):
    await with_dossiers(rig, dossier(due="2026-11-20"))

    await rig.mo("MCKH 0101701234")

    assert (await rig.reply()).text.endswith("trang thai ho so: Tre han.")


async def test_open_dossier_due_today_is_on_time(rig):
    await with_dossiers(rig, dossier(due="2026-11-23"))

    await rig.mo("MCKH 0101701234")

    assert (await rig.reply()).text.endswith("Dung han.")


async def test_finished_late_stays_late(rig):
    await with_dossiers(
        rig,
        dossier(
            step="Trả kết quả", status="result_ready", due="2026-11-10", finished_on="2026-11-12"
        ),
    )

    await rig.mo("MCKH 0101701234")

    assert (await rig.reply()).text.endswith("o buoc Tra ket qua, trang thai ho so: Tre han.")


async def test_finished_on_time_stays_on_time_after_the_due_date(rig):
    await with_dossiers(
        rig, dossier(status="result_ready", due="2026-11-10", finished_on="2026-11-09")
    )

    await rig.mo("MCKH 0101701234")

    assert (await rig.reply()).text.endswith("Dung han.")


async def test_reopened_dossier_is_judged_by_today_again(rig):
    """Finished on time, then reopened (back to processing) past its due date: late."""
    await with_dossiers(
        rig, dossier(status="processing", due="2026-11-10", finished_on="2026-11-09")
    )

    await rig.mo("MCKH 0101701234")

    assert (await rig.reply()).text.endswith("Tre han.")


async def test_number_held_by_several_agencies_is_answered_for_each_naming_it(rig):
    """Receipt numbers are unique within one agency only: both dossiers, one line each."""
    await with_dossiers(
        rig,
        dossier("000123", agency="SCT", step="Thẩm định"),
        dossier("000123", agency="STP", step="Trả kết quả", due="2026-11-01"),
    )

    await rig.mo("MCKH 000123")
    await asyncio.sleep(0.2)

    (reply,) = rig.smsc.records
    assert reply.text == (
        "HS 000123 (So Cong Thuong): Tham dinh, Dung han. "
        "HS 000123 (So Tu phap): Tra ket qua, Tre han."
    )


async def test_answer_for_several_agencies_shortens_steps_to_one_segment(rig):
    long_step = "Chuyển hồ sơ sang Phòng Hộ tịch - Quốc tịch - Chứng thực để thẩm định"
    await with_dossiers(
        rig,
        dossier("000123", agency="SCT", step=long_step),
        dossier("000123", agency="STP", step=long_step),
    )

    await rig.mo("MCKH 000123")
    await asyncio.sleep(0.2)

    (reply,) = rig.smsc.records
    assert segment_count(reply.text) == 1
    assert reply.text.startswith("HS 000123 (So Cong Thuong): Chuyen ho so sang")
    assert "..., Dung han. HS 000123 (So Tu phap): Chuyen" in reply.text


async def test_national_receipt_form_is_found_in_any_case(rig):
    await with_dossiers(rig, dossier(NATIONAL))

    await rig.mo(f"mckh {NATIONAL.lower()}.")

    assert f"({NATIONAL})" in (await rig.reply()).text


async def test_not_found_repeats_the_number_received(rig):
    await rig.mo("MCKH 010170I234")

    text = (await rig.reply()).text
    assert "010170I234" in text
    assert text.startswith("Khong tim thay ho so")
    assert "Soan: MCKH <Ma so bien nhan> gui 8083" in text


async def test_missing_number_gets_the_syntax(rig):
    await rig.mo("MCKH")

    assert (await rig.reply()).text == (
        "Quy Ong/Ba chua nhap ma so bien nhan. Soan: MCKH <Ma so bien nhan> gui 8083"
    )


async def test_several_numbers_are_answered_in_one_reply(rig):
    await with_dossiers(rig, dossier("0101701234"), dossier("0101701235", due="2026-11-01"))

    await rig.mo("MCKH 0101701234 0101701235 0999999")
    await asyncio.sleep(0.2)

    (reply,) = rig.smsc.records
    assert reply.text == (
        "HS 0101701234: Tham dinh ho so, Dung han. HS 0101701235: Tham dinh ho so, Tre han. "
        "HS 0999999: khong tim thay."
    )


async def test_numbers_beyond_the_limit_are_said_to_be_left_out(rig):
    await rig.mo("MCKH 0101701231 0101701232 0101701233 0101701234")

    assert (await rig.reply()).text.endswith("Moi tin tra cuu toi da 3 ho so.")


async def test_agency_keeping_diacritics_gets_them_within_two_segments(rig):
    long_step = "Chuyển hồ sơ sang Phòng Hộ tịch - Quốc tịch - Chứng thực để thẩm định lần hai"
    await with_dossiers(rig, dossier(agency="STP", step=long_step))

    await rig.mo("MCKH 0101701234")
    await rig.reply(2)
    await asyncio.sleep(0.2)
    text = "".join(r.text for r in rig.smsc.records)

    assert {r.data_coding for r in rig.smsc.records} == {8}
    assert len(rig.smsc.records) == 2
    assert text.startswith("Hồ sơ của quý Ông/Bà (0101701234) hiện đang ở bước Chuyển")
    assert text.endswith("..., trạng thái hồ sơ: Đúng hạn.")
    assert segment_count(text) == 2


async def test_ucs2_mo_is_understood(rig):
    await with_dossiers(rig, dossier())

    await rig.mo("Mckh 0101701234 ạ", data_coding=8)

    assert "(0101701234)" in (await rig.reply()).text


async def test_long_mo_in_parts_is_answered_once(rig):
    await with_dossiers(rig, dossier())

    await rig.mo("MCKH 0101701234", max_part=4, reverse=True)
    reply = await rig.reply()
    await asyncio.sleep(0.2)

    assert "(0101701234)" in reply.text
    assert len(rig.smsc.records) == 1


# -- dispatcher rules ----------------------------------------------------------------------


async def test_unknown_keyword_gets_the_help_syntax(rig):
    await rig.mo("TRACUU 0101701234")

    assert (await rig.reply()).text == (
        "Tin nhan chua dung cu phap. Soan: MCKH <Ma so bien nhan> gui 8083"
    )
    assert await rig.mo_log() == [(CITIZEN, None, "not_understood")]


async def test_empty_mo_gets_the_help_syntax(rig):
    await rig.mo("")

    assert (await rig.reply()).text.startswith("Tin nhan chua dung cu phap.")


async def test_help_keyword_lists_the_services(rig):
    await rig.mo("hd")

    assert (await rig.reply()).text == (
        "Dich vu Mot cua: MCKH <Ma so bien nhan> gui 8083: tra cuu tinh trang ho so."
    )


async def test_alphanumeric_sender_is_never_answered(rig):
    statuses = await rig.mo("MCKH 0101701234", source="VIETTEL")
    await asyncio.sleep(0.2)

    assert statuses == [0]
    await rig.no_reply()
    assert await rig.mo_log() == [("VIETTEL", "MCKH", "no_reply_sender")]


async def test_short_code_sender_is_never_answered(rig):
    await rig.mo("MCKH 0101701234", source="9029")
    await asyncio.sleep(0.2)

    await rig.no_reply()
    assert rig.dispatcher.outcomes[("MCKH", "no_reply_sender")] == 1


@pytest.mark.parametrize("cfg", [config(rate_limit=3)])
async def test_number_over_its_rate_is_logged_but_not_answered(rig):
    for n in range(5):
        await rig.mo(f"MCKH 01017{n}")
    await asyncio.sleep(0.3)

    assert len(rig.smsc.records) == 3
    outcomes = [outcome for _, _, outcome in await rig.mo_log()]
    assert outcomes == ["not_found"] * 3 + ["rate_limited"] * 2
    assert rig.dispatcher.outcomes[("MCKH", "rate_limited")] == 2


async def test_identical_mo_redelivered_is_answered_once(rig):
    await rig.mo("MCKH 0101701234")
    await rig.mo("MCKH 0101701234")
    await asyncio.sleep(0.3)

    assert len(rig.smsc.records) == 1
    assert [o for _, _, o in await rig.mo_log()] == ["not_found", "duplicate"]


async def test_rate_and_duplicates_survive_a_restart(store_location):
    db = store_location
    async with running(db, config()) as rig:
        await rig.mo("MCKH 0101701234")
        await rig.reply()
        await rig.sent_and_recorded()
    async with running(db, config()) as rig:
        await rig.mo("MCKH 0101701234")
        await asyncio.sleep(0.2)

        assert rig.smsc.records == []
        assert [o for _, _, o in await rig.mo_log()] == ["not_found", "duplicate"]


async def test_reply_is_sent_after_a_crash_between_storing_and_sending(tmp_path, store_location):
    """The MO is acknowledged (stored with its reply); the sender never ran; restart."""
    db = store_location
    async with SmscSimulator(SimConfig(receipt_delay=0.01)) as smsc:
        async with running(db, config(), send=False, smsc=smsc) as rig:
            await with_dossiers(rig, dossier())
            assert await rig.mo("MCKH 0101701234") == [0]
            await asyncio.sleep(0.1)
            assert smsc.records == []

        async with running(db, config(), smsc=smsc) as rig:
            reply = await rig.reply()

    assert "(0101701234)" in reply.text


async def test_failing_handler_is_answered_and_counted(rig, monkeypatch):
    import handlers.mckh

    async def broken(request, context):
        raise RuntimeError("boom")

    monkeypatch.setattr(handlers.mckh, "handle", broken)
    await rig.mo("MCKH 0101701234")

    assert (await rig.reply()).text.startswith("He thong dang ban")
    assert rig.dispatcher.outcomes[("MCKH", "handler_error")] == 1


async def test_a_new_handler_is_one_module(tmp_path, store_location, monkeypatch):
    """A module in handlers/ and a `keywords:` line: nothing else changes."""
    extra = tmp_path / "more_handlers"
    extra.mkdir()
    (extra / "giogiac.py").write_text(
        """
from gateway.mo.api import Context, Reply, Request

SYNTAX = "GIO"
PURPOSE = "giờ làm việc"


async def handle(request: Request, context: Context) -> Reply:
    return Reply("Bộ phận Một cửa làm việc từ 7h30 đến 17h00, thứ Hai đến thứ Sáu.")
""",
        encoding="utf-8",
    )
    monkeypatch.setattr(handlers, "__path__", [*handlers.__path__, str(extra)])
    monkeypatch.delitem(sys.modules, "handlers.giogiac", raising=False)
    cfg = dataclasses.replace(
        default_config(), keywords=MappingProxyType({"MCKH": "mckh", "GIO": "giogiac"})
    )

    async with running(store_location, cfg) as rig:
        await rig.mo("gio")
        reply = await rig.reply()

    assert reply.text == "Bo phan Mot cua lam viec tu 7h30 den 17h00, thu Hai den thu Sau."
