"""Which notices go by Zalo first: those of an agency that lists Zalo first, of a kind
Zalo has an approved template for, whose template's fields the dossier has. The SMS
text is composed all the same, for the fallback."""

from __future__ import annotations

import dataclasses
import json

import pytest

from gateway.domain.channel import Channel
from gateway.settings.zalo import ZnsTemplate
from tests.support.channels import zalo_composer
from tests.support.clock import Clock, at
from tests.support.figures import dossier


@pytest.fixture
def clock() -> Clock:
    return Clock(at(9))


def result(clock: Clock, **changes) -> object:
    composer = zalo_composer(clock, **changes)
    return composer.notice("result", dossier(status="result_ready"), event_id="e1", ref="r1")


def test_a_notice_with_a_zalo_template_goes_by_zalo_with_its_parameters(clock):
    message = result(clock)

    assert message.channel is Channel.ZALO
    assert json.loads(message.zns) == {
        "template_id": "zns-result",
        "params": {"ma_ho_so": "000123", "co_quan": "Sở Công Thương"},
    }


def test_a_zalo_notice_keeps_its_sms_text_and_number_for_the_fallback(clock):
    message = result(clock)
    by_sms = result(clock, channels=("sms",))

    assert (message.phone, message.text, message.segments) == (
        by_sms.phone, by_sms.text, by_sms.segments
    )  # fmt: skip


def test_an_agency_that_lists_sms_first_sends_by_sms(clock):
    message = result(clock, channels=("sms", "zalo"))

    assert (message.channel, message.zns) == (Channel.SMS, None)


def test_a_kind_zalo_has_no_template_for_goes_by_sms(clock):
    composer = zalo_composer(clock)
    message = composer.notice("supplement", dossier(), event_id="e1", ref="r1")

    assert message.channel is Channel.SMS


def test_a_zalo_template_needing_a_field_the_dossier_lacks_leaves_the_notice_to_sms(clock):
    needs_due = ZnsTemplate("zns-result", {"ma_ho_so": "{receipt_no}", "hen_tra": "{due_date}"})
    composer = zalo_composer(clock, zns={"result": needs_due})
    no_due_date = dataclasses.replace(dossier(status="result_ready"), due_date=None)

    message = composer.notice("result", no_due_date, event_id="e1", ref="r1")

    assert (message.channel, message.state.value) == (Channel.SMS, "queued")


def test_a_notice_refused_for_its_number_is_refused_whatever_the_channel(clock):
    composer = zalo_composer(clock)
    landline = dataclasses.replace(dossier(status="result_ready"), phone="02583822123")

    message = composer.notice("result", landline, event_id="e1", ref="r1")

    assert (message.state.value, message.channel) == ("rejected", Channel.SMS)
