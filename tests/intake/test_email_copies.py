"""E-mail copies made at intake: an event or job that carries `email`, for an agency with
`email: true`, leaves a letter in the store beside its notice, in the same transaction.
The letter keeps the diacritics the agency's SMS may strip; a bad address refuses the copy
alone (status `rejected`, channel `email`), never the notice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gateway.compose.templates import DEFAULT_TEMPLATES
from gateway.store.store import Store
from tests.support.intake import IntakeRig, intake_on
from tests.support.mailing import RECEIPT_NO, SCT_FROM, TO, event, job, mailing_config
from tests.support.store_reads import db_rows

RESULT_TEXT = DEFAULT_TEMPLATES["result"].format(
    receipt_no=RECEIPT_NO, agency_name="Sở Công Thương"
)


@pytest.fixture
async def rig(tmp_path: Path, store_location) -> AsyncIterator[IntakeRig]:
    async with Store.open(store_location) as store:
        yield IntakeRig(store, intake_on(store, mailing_config()))


async def letters(rig: IntakeRig) -> dict[str, dict[str, Any]]:
    rows = await db_rows(
        rig.store,
        "SELECT ref, state, reason, address, sender, subject, body, qr FROM emails ORDER BY id",
    )
    keys = ("state", "reason", "address", "sender", "subject", "body", "qr")
    return {ref: dict(zip(keys, rest, strict=True)) for ref, *rest in rows}


async def email_statuses(rig: IntakeRig) -> list[dict[str, Any]]:
    return [s for s in await rig.statuses() if s.get("channel") == "email"]


async def test_an_event_with_email_makes_a_letter_with_the_notice_text_and_its_diacritics(rig):
    await rig.intake.process([event("e-1", email=TO)])

    letter = (await letters(rig))["e-1:result"]
    assert letter["state"] == "queued"
    assert letter["address"] == TO
    assert letter["sender"] == SCT_FROM
    assert letter["body"] == RESULT_TEXT
    assert letter["subject"] == f"Sở Công Thương: Hồ sơ {RECEIPT_NO} đã có kết quả"
    assert letter["qr"] is None
    # The SMS of the same notice is stripped, as the agency wants its SMS.
    state, _reason, text = (await rig.messages())["e-1:result"]
    assert state == "queued"
    assert text == "Thong bao: Ho so cua quy Ong/Ba (0101701234) da duoc giai quyet xong. " \
        "Moi Ong/Ba den Bo phan Mot cua So Cong Thuong de nhan ket qua"  # fmt: skip


async def test_the_receipt_notices_letter_carries_the_receipt_number_for_its_qr_code(rig):
    await rig.intake.process([event("e-1", status="received", email=TO)])

    letter = (await letters(rig))["e-1:receipt"]
    assert letter["qr"] == RECEIPT_NO
    assert letter["body"] == DEFAULT_TEMPLATES["receipt"].format(
        agency_name="Sở Công Thương", receipt_no=RECEIPT_NO, due_date="25/11/2026"
    )


async def test_an_event_without_email_makes_no_letter(rig):
    await rig.intake.process([event("e-1")])

    assert await letters(rig) == {}
    assert (await rig.messages())["e-1:result"][0] == "queued"


async def test_an_agency_with_email_off_makes_no_letter(rig):
    await rig.intake.process([event("e-1", agency="STP", email=TO)])

    assert await letters(rig) == {}
    assert (await rig.messages())["e-1:result"][0] == "queued"


async def test_a_bad_address_refuses_the_copy_alone_and_the_sms_notice_is_queued(rig):
    await rig.intake.process([event("e-1", email="nguyenvana@gmail")])

    (status,) = await email_statuses(rig)
    assert status["id"] == "e-1:result:email"
    assert status["state"] == "rejected"
    assert status["reason"].startswith("email: the domain has no '.'")
    assert status["to"] is None
    assert (await letters(rig))["e-1:result"]["state"] == "rejected"
    assert (await rig.messages())["e-1:result"][0] == "queued"


async def test_the_last_status_of_a_notice_with_a_bad_address_is_the_notices_own(rig):
    """An agency reads a message by the last status of its id: the copy's refusal must not
    read as the notice refused ("nothing will be sent")."""
    await rig.intake.process([event("e-1", email="nguyenvana@gmail")])

    notice = [s for s in await rig.statuses() if s["id"] == "e-1:result"]
    assert [(s["state"], s["channel"]) for s in notice] == [("queued", "sms")]


async def test_an_email_that_is_not_text_refuses_the_copy_naming_its_type(rig):
    await rig.intake.process([event("e-1", email=905123456), job("j-1", text="x", email=["a"])])

    reasons = {s["id"]: s["reason"] for s in await email_statuses(rig)}
    assert reasons == {
        "e-1:result:email": "email: must be text (an e-mail address), got a number",
        "j-1:email": "email: must be text (an e-mail address), got a list",
    }
    messages = await rig.messages()
    assert messages["e-1:result"][0] == messages["j-1"][0] == "queued"


async def test_a_notice_refused_for_its_phone_still_has_its_email_copy(rig):
    await rig.intake.process([event("e-1", phone="0258 3822 123", email=TO)])

    state, reason, _text = (await rig.messages())["e-1:result"]
    assert state == "rejected" and reason.startswith("phone: ")
    assert (await letters(rig))["e-1:result"]["state"] == "queued"


async def test_a_notice_sent_again_once_its_number_is_fixed_gets_no_second_copy(rig):
    await rig.intake.process([event("e-1", phone="0258 3822 123", email=TO)])
    await rig.intake.process([event("e-2", phone="0905 123 456", email=TO)])

    assert (await rig.messages())["e-2:result"][0] == "queued"  # the SMS goes now
    assert list(await letters(rig)) == ["e-1:result"]  # the e-mail went the first time


async def test_a_notice_sent_again_in_the_same_batch_gets_no_second_copy(rig):
    await rig.intake.process(
        [event("e-1", phone="0258 3822 123", email=TO), event("e-2", email=TO)]
    )

    assert list(await letters(rig)) == ["e-1:result"]


async def test_a_fixed_number_brings_the_copy_the_first_event_had_no_address_for(rig):
    await rig.intake.process([event("e-1", phone="0258 3822 123")])
    await rig.intake.process([event("e-2", phone="0905 123 456", email=TO)])

    assert list(await letters(rig)) == ["e-2:result"]


async def test_a_skipped_notice_has_no_email_copy(rig):
    await rig.intake.process([event("e-1", same_day=True, email=TO)])

    assert (await rig.messages())["e-1:result"][0] == "skipped"
    assert await letters(rig) == {}


async def test_the_queued_letter_publishes_no_status_of_its_own(rig):
    await rig.intake.process([event("e-1", email=TO)])

    assert await email_statuses(rig) == []


async def test_a_job_with_email_makes_a_letter_with_its_text_as_written(rig):
    await rig.intake.process([job("j-1", text="Lệ phí 50.000 đồng", email=TO)])

    letter = (await letters(rig))["j-1"]
    assert (letter["state"], letter["address"], letter["body"]) == (
        "queued",
        TO,
        "Lệ phí 50.000 đồng",
    )
    assert letter["subject"] == "Thông báo từ Sở Công Thương"
    assert (await rig.messages())["j-1"][:1] == ("queued",)


async def test_a_template_jobs_letter_has_the_template_filled_with_its_diacritics(rig):
    params = {"receipt_no": RECEIPT_NO}
    await rig.intake.process([job("j-1", template="result", params=params, email=TO)])

    assert (await letters(rig))["j-1"]["body"] == RESULT_TEXT


async def test_a_job_refused_for_its_template_makes_no_letter(rig):
    await rig.intake.process([job("j-1", template="no_such_template", params={}, email=TO)])

    assert (await rig.rejected())["j-1"].startswith("template: unknown template")
    assert await letters(rig) == {}


async def test_a_repeated_event_id_makes_no_second_letter(rig):
    await rig.intake.process([event("e-1", email=TO)])
    await rig.intake.process([event("e-1", email=TO), event("e-1", email="other@gmail.com")])

    assert list(await letters(rig)) == ["e-1:result"]
    assert (await letters(rig))["e-1:result"]["address"] == TO


async def test_a_repeated_job_id_makes_no_second_letter(rig):
    await rig.intake.process(
        [job("j-1", text="Lần một", email=TO), job("j-1", text="Lần hai", email=TO)]
    )
    await rig.intake.process([job("j-1", text="Lần ba", email=TO)])

    assert {ref: x["body"] for ref, x in (await letters(rig)).items()} == {"j-1": "Lần một"}
