"""An SMS job naming a notice kind's template (SPEC `{prefix}/{agency}/sms`) is written as
the notice is: the agency name comes from the agency's configuration, never from the
caller, and a due date given as YYYY-MM-DD (the contract's form) prints dd/mm/yyyy."""

from __future__ import annotations

from tests.support.intake import IntakeRig, template_job


async def test_a_job_naming_a_notice_kind_gets_the_agency_name_from_configuration(rig: IntakeRig):
    await rig.intake.process([template_job(1, "result", {"receipt_no": "0101701234"})])

    state, _reason, text = (await rig.messages())["job-1"]
    assert state == "queued"
    assert text is not None and text.endswith("Bộ phận Một cửa Sở Công Thương để nhận kết quả")


async def test_a_job_giving_the_agency_name_of_a_notice_kind_is_rejected_naming_it(rig: IntakeRig):
    params = {"receipt_no": "0101701234", "agency_name": "Sở Xây Dựng"}
    await rig.intake.process([template_job(1, "result", params)])

    reason = (await rig.rejected())["job-1"]
    assert reason.startswith("params: agency_name") and "configuration" in reason
    assert await rig.messages() == {}


async def test_a_due_date_in_iso_form_prints_as_notices_write_it(rig: IntakeRig):
    params = {"receipt_no": "0101701234", "due_date": "2026-11-25"}
    await rig.intake.process([template_job(1, "receipt", params)])

    state, _reason, text = (await rig.messages())["job-1"]
    assert state == "queued" and text is not None
    assert text.endswith("Ngày hẹn trả kết quả: 25/11/2026")


async def test_a_due_date_already_written_dd_mm_yyyy_is_kept(rig: IntakeRig):
    params = {"receipt_no": "0101701234", "due_date": "25/11/2026"}
    await rig.intake.process([template_job(1, "receipt", params)])

    _state, _reason, text = (await rig.messages())["job-1"]
    assert text is not None and text.endswith("Ngày hẹn trả kết quả: 25/11/2026")


async def test_an_impossible_iso_due_date_is_rejected_naming_due_date(rig: IntakeRig):
    params = {"receipt_no": "0101701234", "due_date": "2026-13-45"}
    await rig.intake.process([template_job(1, "receipt", params)])

    state, reason, _text = (await rig.messages())["job-1"]
    assert state == "rejected" and reason == "params: due_date: not a date (give YYYY-MM-DD)"


async def test_an_agency_template_of_its_own_takes_every_placeholder_as_the_job_gives_it(
    rig: IntakeRig,
):
    params = {"receipt_no": "0101701234", "amount": "50000", "deadline": "2026-11-30"}
    await rig.intake.process([template_job(1, "fee_reminder", params)])

    state, _reason, text = (await rig.messages())["job-1"]
    assert state == "queued" and text is not None and "2026-11-30" in text
