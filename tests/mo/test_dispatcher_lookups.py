"""MCKH lookups as citizens really type them, answered from mirrored dossiers.

Each message goes through the dispatcher as the daemon wires it (store, composer, MCKH
handler) and the reply is read back from the store, where the sender would take it. The
last tests send a few of them over real TCP with the simulator's MO injection.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.app import composer_settings, dispatcher_settings
from gateway.compose.composer import Composer
from gateway.mo.dispatcher import Dispatcher
from gateway.smpp.inbound import Mo
from gateway.store.store import Store
from tests.support.clock import NOON
from tests.support.mo import NATIONAL, config, dossier, running, with_dossiers
from tests.support.store_reads import db_rows

PROVINCIAL = "0101701234"
FINISHED = "0101701235"
PHONE_SHAPED = "0301701234"  # a receipt number that is also a valid Viettel number

DOSSIERS = (
    dossier(PROVINCIAL),
    dossier(
        FINISHED,
        step="“Trả kết quả”",
        status="result_ready",
        due="2026-11-20",
        finished_on="2026-11-23",
    ),
    dossier(NATIONAL, step="Chờ bổ sung", status="needs_supplement"),
    dossier(PHONE_SHAPED, step="Tiếp nhận hồ sơ"),
)

SYNTAX = "Soan: MCKH <Ma so bien nhan> gui 8083"
A = (
    "Ho so cua quy Ong/Ba (0101701234) hien dang o buoc Tham dinh ho so, "
    "trang thai ho so: Dung han."
)
N = f"Ho so cua quy Ong/Ba ({NATIONAL}) hien dang o buoc Cho bo sung, trang thai ho so: Dung han."
P = (
    "Ho so cua quy Ong/Ba (0301701234) hien dang o buoc Tiep nhan ho so, "
    "trang thai ho so: Dung han."
)
MISSING = f"Quy Ong/Ba chua nhap ma so bien nhan. {SYNTAX}"
NOT_UNDERSTOOD = f"Tin nhan chua dung cu phap. {SYNTAX}"


def not_found(number: str) -> str:
    return f"Khong tim thay ho so co ma so {number}. Quy Ong/Ba vui long kiem tra lai. {SYNTAX}"


QR_URL = (
    "https://dichvucong.gov.vn/p/home/dvc-tra-cuu-ho-so.html?ma_ho_so=000.00.06.H56-231027-0361"
)

# What a citizen sends -> what a person at the desk would answer.
LOOKUPS = [
    # the receipt, however it is written
    ("MCKH 0101701234", A),
    ("mckh 0101701234", A),
    ("Mckh 0101701234.", A),
    ("MCKH0101701234", A),
    ("mckh0101701234", A),
    ("MCKH: 0101701234", A),
    ("MCKH 0101701234!!!", A),
    ("MCKH (0101701234)", A),
    ("MCKH “0101701234”", A),
    ("MCKH ０１０１７０１２３４", A),
    # polite words around it, the keyword not first
    ("MCKH 0101701234 ạ", A),
    ("Cho em hỏi MCKH 0101701234", A),
    ("Cho em hoi MCKH 0101701234", A),
    ("Cho em hỏi MCKH 0101701234 với ạ, xin cảm ơn!", A),
    ("Chào anh chị, MCKH 0101701234 xin cam on a", A),
    ("Cho em hỏi hồ sơ 0101701234 MCKH", A),
    ("mckh 0101701234 lan 2", A),
    ("MCKH 0101701234 lúc 10h30 ngày 20/11/2026", A),
    # spaces inside the number
    ("MCKH 0101 701 234", A),
    ("MCKH 010 170 1234", A),
    ("MCKH 0101\u00a0701\u00a0234", A),
    ("MCKH 0101\u2009701\u202f234", A),
    # the national form, Unicode dashes and invisible characters
    (f"MCKH {NATIONAL}", N),
    ("MCKH 000.00.06.H56–231027–0361", N),
    ("MCKH 000.00.06.H56—231027—0361", N),
    ("MCKH 000.00.06.H56\u2011231027\u20110361", N),
    ("mckh 000.00.06.h56-231027-0361", N),
    ("mckh 000.00.06.H56 - 231027 - 0361", N),
    ("MCKH 000.00.06.H56-231027-0361\u200b", N),
    # pasted from a receipt's QR code
    ("MCKH Mã hồ sơ: 000.00.06.H56-231027-0361", N),
    ("MCKH Ma ho so: 000.00.06.H56-231027-0361 Ngay hen tra: 25/11/2026", N),
    (f"MCKH {QR_URL}", N),
    ("MCKH http://motcua.khanhhoa.gov.vn/tracuu/0101701234", A),
    # ... with what apps and sites add to a link: times, trackers, dates in the path
    (
        "MCKH https://motcua.khanhhoa.gov.vn/2026/11/tracuu?t=1700000000"
        "&fbclid=IwAR3xYz_9aBcD&so=0101701234",
        A,
    ),
    ("MCKH https://khanhhoa.gov.vn/tin/2026/11/25/0101701234.html?t=1700000000", A),
    (
        f"MCKH 0101701239 0101701238 {QR_URL}&t=1700000000&utm_source=zalo",
        "HS 0101701239: khong tim thay. HS 0101701238: khong tim thay. "
        f"HS {NATIONAL}: Cho bo sung, Dung han.",
    ),
    # a word glued before the number
    ("MCKH HS0101701234", A),
    ("MCKH so0101701234", A),
    ("MCKH Số0101701234", A),
    ("MCKH MS:0101701234", A),
    ("MCKH MaHS0101701234", A),
    # digit groups joined by dashes
    ("MCKH 0101-701-234", A),
    ("MCKH 010-170-1234", A),
    ("MCKH 0101-701-239", not_found("0101701239")),
    # a phone number in the text is not a receipt number
    ("MCKH 0101701234 sdt 0905123456", A),
    ("MCKH 0101701234 SĐT: 0905 123 456", A),
    ("MCKH 0905123456", MISSING),
    ("MCKH +84 905 123 456", MISSING),
    ("MCKH 0258 3822 123", MISSING),
    (f"MCKH {PHONE_SHAPED}", P),  # ... unless a dossier has it as its receipt
    # not found: said for that number, once
    ("MCKH 0101701239", not_found("0101701239")),
    ("MCKH 0101 701 239", not_found("0101701239")),
    ("MCKH 000.00.06.H56–231027–9999", not_found("000.00.06.H56-231027-9999")),
    # a number too short to be a receipt's is still the one the citizen means
    ("MCKH 9999", not_found("9999")),
    ("MCKH so 123", not_found("123")),
    ("MCKH 0905123456 9999", not_found("9999")),
    # several numbers
    (
        "MCKH 0101701234 0101701235",
        'HS 0101701234: Tham dinh ho so, Dung han. HS 0101701235: "Tra ket qua", Tre han.',
    ),
    (
        "MCKH 0101701234, 0101701239",
        "HS 0101701234: Tham dinh ho so, Dung han. HS 0101701239: khong tim thay.",
    ),
    ("Mckh 0101701234 0101701234", A),
    # no receipt named: the syntax
    ("MCKH", MISSING),
    ("MCKH ho so cua em", MISSING),
    ("MCKH ngay 20/11/2026", MISSING),
    ("MCKH lan 2", MISSING),
    ("MCKH luc 10h30", MISSING),
    ("Cho em hỏi hồ sơ của em đến đâu rồi ạ", NOT_UNDERSTOOD),
    ("Xin chào", NOT_UNDERSTOOD),
]

_senders = (f"849051{n:05d}" for n in itertools.count())


@pytest.fixture
async def dispatcher(tmp_path: Path, store_location) -> AsyncIterator[tuple[Dispatcher, Store]]:
    cfg = config()
    async with Store.open(store_location) as store:
        await store.dossiers.record_intake(dossiers=DOSSIERS)
        composer = Composer(composer_settings(cfg), clock=lambda: NOON)
        async with Dispatcher(
            store.mo_log, store.dossiers, composer, dispatcher_settings(cfg), clock=lambda: NOON
        ) as dispatcher:
            yield dispatcher, store


async def answer(dispatcher: Dispatcher, store: Store, text: str) -> tuple[str, int]:
    await dispatcher.receive(Mo(source=next(_senders), destination="8083", text=text))
    rows = await db_rows(store, "SELECT text, segments FROM messages ORDER BY id")
    assert len(rows) == 1
    return rows[0][0], rows[0][1]


def test_the_table_has_at_least_40_messages():
    assert len(LOOKUPS) >= 40


@pytest.mark.parametrize(("text", "expected"), LOOKUPS)
async def test_lookup_gets_the_answer_a_person_would_give(dispatcher, text, expected):
    reply, segments = await answer(*dispatcher, text)

    assert reply == expected
    assert segments == 1


INCOMPLETE = (
    "Tin nhan cua Quy Ong/Ba chua den du, khong doc duoc ma so bien nhan. "
    "Vui long gui lai: MCKH <Ma so bien nhan> gui 8083"
)


async def answer_partial(dispatcher: Dispatcher, store: Store, text: str) -> str:
    """The reply to a long MO of which only `text` arrived (the other parts never came)."""
    await dispatcher.receive(
        Mo(source=next(_senders), destination="8083", text=text, complete=False, parts=2)
    )
    rows = await db_rows(store, "SELECT text FROM messages ORDER BY id")
    assert len(rows) == 1
    return rows[0][0]


@pytest.mark.parametrize(
    "arrived",
    [
        "MCKH 000.00.06.H56-2310",  # the number cut in the middle
        "Cho em hoi ho so MCKH 01017",
        "Cho em hoi ho so cua em MCKH",  # the number was in the lost part
    ],
)
async def test_mo_cut_short_asks_to_send_again_instead_of_not_found(dispatcher, arrived):
    assert await answer_partial(*dispatcher, arrived) == INCOMPLETE


async def test_mo_cut_short_still_answers_the_receipt_that_came_whole(dispatcher):
    assert await answer_partial(*dispatcher, "MCKH 0101701234 cho em hoi") == A


# -- over real TCP ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Cho em hỏi MCKH 0101701234", A),
        ("MCKH 0101 701 234", A),
        ("MCKH 000.00.06.H56–231027–0361", N),
        ("MCKH 0101701234 sdt 0905 123 456", A),
    ],
)
async def test_lookup_over_the_simulator(tmp_path, store_location, text, expected):
    async with running(store_location, config()) as rig:
        await with_dossiers(rig, *DOSSIERS)

        await rig.mo(text)
        reply = await rig.reply()

        assert reply.text == expected
        assert len(rig.smsc.records) == 1


async def test_ucs2_lookup_with_an_en_dash_over_the_simulator(tmp_path, store_location):
    """The en dash forces the MO itself into UCS-2; the number is still found."""
    async with running(store_location, config()) as rig:
        await with_dossiers(rig, *DOSSIERS)

        await rig.mo("Cho em hỏi MCKH 000.00.06.H56–231027–0361 ạ", data_coding=0x08)
        reply = await rig.reply()

        assert reply.text == N
