"""Outbound end to end: MQTT in, SMS out through the simulator, statuses back on MQTT."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import pytest

from gateway.smpp.sim import SimConfig, SmscSimulator
from gateway.smpp.text import UCS2
from tests.support.daemon import (
    StatusWatch,
    dossier_event,
    gateway_config,
    publish,
    running_gateway,
)
from tests.support.wait import eventually

_ids = itertools.count(1)

RESULT_SCT = (
    "Thong bao: Ho so cua quy Ong/Ba ({receipt}) da duoc giai quyet xong. "
    "Moi Ong/Ba den Bo phan Mot cua So Cong Thuong de nhan ket qua"
)


class Rig:
    def __init__(self, smsc: SmscSimulator, watch: StatusWatch, port: int) -> None:
        self.smsc = smsc
        self.watch = watch
        self.port = port

    async def send(self, *items: tuple[str, object]) -> None:
        await publish(self.port, list(items))

    def texts(self) -> list[str]:
        return [r.text for r in self.smsc.records]


@pytest.fixture
async def rig(broker, tmp_path) -> AsyncIterator[Rig]:
    async with SmscSimulator(SimConfig(receipt_delay=0.01)) as smsc:
        config = gateway_config(
            broker_port=broker.port,
            smsc_port=smsc.port,
            db=tmp_path / "gateway.db",
            client_id=f"gw-test-{next(_ids)}-{tmp_path.name}",
        )
        async with StatusWatch(broker.port) as watch, running_gateway(config):
            yield Rig(smsc, watch, broker.port)


def final(ref: str):
    return lambda events: any(
        e["id"] == ref and e["state"] not in ("queued", "submitted") for e in events
    )


async def test_result_ready_sends_the_result_notice_and_reports_delivery(rig):
    """The seed text, diacritics stripped (SCT's policy), queued → submitted → delivered."""
    await rig.send(("motcua/SCT/dossier", dossier_event(1)))

    await rig.watch.wait_for(final("SCT-1-result_ready:result"))

    assert rig.texts() == [RESULT_SCT.format(receipt="0101700001")]
    assert rig.watch.states("SCT-1-result_ready:result") == ["queued", "submitted", "delivered"]
    delivered = rig.watch.events[-1]
    assert delivered["to"] == "8490*****56"
    assert delivered["receipt_no"] == "0101700001"
    assert delivered["kind"] == "result"
    assert rig.watch.topics[-1] == "motcua/SCT/status"


async def test_agency_keeping_diacritics_sends_ucs2(rig):
    """STP keeps diacritics: the notice goes as UCS-2, in Vietnamese as written."""
    await rig.send(("motcua/STP/dossier", dossier_event(2, agency="STP")))

    await rig.watch.wait_for(final("STP-2-result_ready:result"))

    assert {r.data_coding for r in rig.smsc.records} == {UCS2}
    assert "".join(rig.texts()).startswith("Thông báo: Hồ sơ của quý Ông/Bà (0101700002)")


async def test_repeated_event_id_sends_nothing_more(rig):
    """The same event twice (a redelivery, or the agency resending): one SMS."""
    event = dossier_event(3)
    await rig.send(("motcua/SCT/dossier", event), ("motcua/SCT/dossier", event))
    await rig.watch.wait_for(final("SCT-3-result_ready:result"))
    await rig.send(("motcua/SCT/dossier", event))
    await rig.send(("motcua/SCT/dossier", dossier_event(4)))
    await rig.watch.wait_for(final("SCT-4-result_ready:result"))

    assert rig.smsc.stats.submits == 2


async def test_same_status_again_sends_no_second_notice(rig):
    """A notice follows a status *entered*; a new event in the same status sends none."""
    await rig.send(("motcua/SCT/dossier", dossier_event(5)))
    await rig.watch.wait_for(final("SCT-5-result_ready:result"))
    await rig.send(
        (
            "motcua/SCT/dossier",
            dossier_event(5, event_id="again", occurred_at="2026-11-22T11:00:00+07:00"),
        )
    )
    await rig.send(("motcua/SCT/dossier", dossier_event(6)))
    await rig.watch.wait_for(final("SCT-6-result_ready:result"))

    assert rig.smsc.stats.submits == 2


async def test_older_event_is_recorded_but_changes_nothing(rig):
    """result_ready at 09:00 arriving after processing at 10:00: no notice."""
    await rig.send(
        ("motcua/SCT/dossier", dossier_event(7, status="processing")),
        ("motcua/SCT/dossier", dossier_event(7, occurred_at="2026-11-22T09:00:00+07:00")),
        ("motcua/SCT/dossier", dossier_event(8)),
    )
    await rig.watch.wait_for(final("SCT-8-result_ready:result"))

    assert rig.smsc.stats.submits == 1
    assert not rig.watch.states("SCT-7-result_ready:result")


async def test_same_day_procedure_is_skipped_where_the_agency_says_so(rig):
    await rig.send(("motcua/SCT/dossier", dossier_event(9, same_day=True)))

    await rig.watch.wait_for(final("SCT-9-result_ready:result"))

    assert rig.watch.states("SCT-9-result_ready:result") == ["skipped"]
    assert rig.smsc.stats.submits == 0


@pytest.mark.parametrize(("code", "kind"), [(9, "result"), ("5", "supplement")])
async def test_national_status_codes_trigger_notices(rig, code, kind):
    event = dossier_event(10, status=code, event_id=f"nat-{code}")

    await rig.send(("motcua/SCT/dossier", event))

    await rig.watch.wait_for(final(f"nat-{code}:{kind}"))


async def test_notice_kind_the_agency_has_not_enabled_sends_nothing(rig):
    """SCT has no `receipt` notice: entering `received` sends nothing."""
    await rig.send(
        ("motcua/SCT/dossier", dossier_event(11, status="received")),
        ("motcua/SCT/dossier", dossier_event(12)),
    )
    await rig.watch.wait_for(final("SCT-12-result_ready:result"))

    assert rig.smsc.stats.submits == 1


async def test_landline_is_rejected_at_once_with_the_reason(rig):
    await rig.send(("motcua/SCT/dossier", dossier_event(13, phone="0258 3822 123")))

    events = await rig.watch.wait_for(final("SCT-13-result_ready:result"))

    assert events[-1]["state"] == "rejected"
    assert events[-1]["reason"].startswith("phone: landline")


async def test_sms_job_with_text_is_sent_once_per_id(rig):
    job = {"id": "fee-2026-000991", "to": "0905123456", "text": "Lệ phí hồ sơ: 50.000 đồng"}
    await rig.send(("motcua/SCT/sms", job), ("motcua/SCT/sms", job))

    await rig.watch.wait_for(final("fee-2026-000991"))
    await rig.send(("motcua/SCT/sms", job), ("motcua/SCT/sms", {**job, "id": "next"}))
    await rig.watch.wait_for(final("next"))

    assert rig.texts() == ["Le phi ho so: 50.000 dong"] * 2
    assert rig.watch.states("fee-2026-000991") == ["queued", "submitted", "delivered"]


async def test_sms_job_with_a_template(rig):
    job = {
        "id": "tpl-1",
        "to": "0905123456",
        "template": "result",
        "params": {"receipt_no": "0101701234"},
    }

    await rig.send(("motcua/SCT/sms", job))
    await rig.watch.wait_for(final("tpl-1"))

    assert rig.texts() == [RESULT_SCT.format(receipt="0101701234")]


@pytest.mark.parametrize(
    ("topic", "payload", "field"),
    [
        ("motcua/SCT/dossier", b"{not json", "payload"),
        ("motcua/SCT/dossier", dossier_event(20, agency="STP"), "agency"),
        ("motcua/XYZ/dossier", dossier_event(21, agency="XYZ"), "agency"),
        ("motcua/SCT/dossier", dossier_event(22, due_date="2026-02-30"), "due_date"),
        ("motcua/SCT/sms", {"id": "bad-1", "to": "0905123456"}, "text"),
    ],
)
async def test_bad_payload_gets_a_rejected_status_naming_the_field(rig, topic, payload, field):
    """Rejected with the field in the reason, then acknowledged: the queue moves on."""
    await rig.send((topic, payload), ("motcua/SCT/dossier", dossier_event(30)))

    events = await rig.watch.wait_for(
        lambda ev: (
            any(e["state"] == "rejected" for e in ev) and final("SCT-30-result_ready:result")(ev)
        )
    )

    (rejected,) = [e for e in events if e["state"] == "rejected"]
    assert rejected["reason"].startswith(f"{field}:")
    assert rig.smsc.stats.submits == 1


async def test_submits_wait_for_the_smsc_and_go_when_it_returns(rig):
    """SMSC sessions dropped mid-stream: every notice still ends delivered."""
    await rig.send(*[("motcua/SCT/dossier", dossier_event(100 + i)) for i in range(20)])
    rig.smsc.drop_all()

    await rig.watch.wait_for(
        lambda ev: sum(e["state"] == "delivered" for e in ev) >= 20, timeout=20
    )
    await eventually(lambda: rig.smsc.stats.binds >= 2)


async def test_mckh_lookup_of_a_dossier_from_mqtt_is_answered_from_the_shortcode(rig):
    """The whole daemon: a dossier event over MQTT, then the citizen's MCKH over SMPP."""
    await rig.send(("motcua/SCT/dossier", dossier_event(50)))
    await rig.watch.wait_for(final("SCT-50-result_ready:result"))

    await rig.smsc.inject_mo("84905123456", "8083", "mckh 0101700050")
    await eventually(lambda: len(rig.smsc.records) == 2)

    reply = rig.smsc.records[-1]
    assert reply.source == "8083"
    assert reply.text.startswith("Ho so cua quy Ong/Ba (0101700050) hien dang o buoc Tra ket qua")
    replied = await rig.watch.wait_for(
        lambda ev: any(e["kind"] == "mo_reply" and e["state"] == "delivered" for e in ev)
    )
    assert rig.watch.topics[-1] == "motcua/SCT/status"
    assert [e["receipt_no"] for e in replied if e["kind"] == "mo_reply"][-1] == "0101700050"


async def test_same_receipt_number_at_two_agencies_stays_two_dossiers(rig):
    """STP's 000123 neither replaces SCT's 000123 nor borrows its citizen's phone: STP's
    result notice has no number to go to, and a lookup answers for both agencies."""
    await rig.send(
        (
            "motcua/SCT/dossier",
            dossier_event(
                60,
                status="processing",
                receipt_no="000123",
                step="Thẩm định hồ sơ",
                due_date="2099-12-31",
            ),
        ),
        ("motcua/STP/dossier", dossier_event(60, agency="STP", receipt_no="000123", phone=None)),
    )
    events = await rig.watch.wait_for(final("STP-60-result_ready:result"))

    (stp,) = [e for e in events if e["id"] == "STP-60-result_ready:result"]
    assert (stp["state"], stp["reason"]) == ("rejected", "phone: missing (missing)")
    await rig.smsc.inject_mo("84905123456", "8083", "MCKH 000123")
    await eventually(lambda: len(rig.smsc.records) == 1)
    assert rig.smsc.records[0].text == (
        "HS 000123 (So Cong Thuong): Tham dinh ho so, Dung han. "
        "HS 000123 (So Tu phap): Tra ket qua, Dung han."
    )


async def test_same_event_id_at_two_agencies_is_two_events(rig):
    """Event ids identify events within their agency: STP's event "7" is not a repeat of
    SCT's event "7"; both dossiers change and both notices go."""
    await rig.send(
        ("motcua/SCT/dossier", dossier_event(63, event_id="7")),
        ("motcua/STP/dossier", dossier_event(64, agency="STP", event_id="7")),
    )

    await rig.watch.wait_for(
        lambda ev: sum(e["id"] == "7:result" and e["state"] == "delivered" for e in ev) == 2
    )

    sent = "".join(rig.texts())
    assert "(0101700063)" in sent
    assert "(0101700064)" in sent


async def test_dossier_returned_before_its_due_date_stays_on_time_after_it(rig):
    """Straight to `returned` (no result_ready event) five days early: on time, however
    long after the due date the citizen asks."""
    early = dossier_event(
        61, status="returned", due_date="2020-01-10", occurred_at="2020-01-05T10:00:00+07:00"
    )
    await rig.send(("motcua/SCT/dossier", early), ("motcua/SCT/dossier", dossier_event(62)))
    await rig.watch.wait_for(final("SCT-62-result_ready:result"))  # committed after 61
    await rig.smsc.inject_mo("84905123456", "8083", "MCKH 0101700061")

    await eventually(lambda: len(rig.smsc.records) == 2)
    assert rig.smsc.records[-1].text.endswith("trang thai ho so: Dung han.")
