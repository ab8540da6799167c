"""The daemon on Zalo with SMS fallback, over real HTTP to the bundled Zalo simulator and
real SMPP to the bundled SMSC: a citizen Zalo delivers to, one without Zalo (SMS at once),
one Zalo never confirms (SMS when the timer ends), a lookup from the Zalo chat, and the
report's figures per channel of what went."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from gateway.ops.report import render
from gateway.settings.config import AdminConfig, default_config
from gateway.smpp.sim import SimConfig, SmscSimulator
from gateway.store.figures import Figures
from gateway.store.store import Store
from tests.support.broker import free_port
from tests.support.daemon import (
    StatusWatch,
    dossier_event,
    gateway_config,
    publish,
    running_gateway,
)
from tests.support.wait import eventually
from tests.support.zalo import DELIVERED, NEVER, NO_ZALO, ZaloRig, daemon_on_zalo, zalo_rig

FALLBACK_AFTER = 1.5


def national(international: str) -> str:
    return "0" + international[2:]


@dataclasses.dataclass
class Rig:
    zalo: ZaloRig
    smsc: SmscSimulator
    watch: StatusWatch
    broker_port: int
    prefix: str


@pytest.fixture
async def rig(broker, tmp_path) -> AsyncIterator[Rig]:
    hook_port = free_port()
    url = f"http://127.0.0.1:{hook_port}/zalo/webhook"
    prefix = "zalo-e2e"
    async with (
        zalo_rig(tmp_path, webhook_url=url, templates={"2001": True}) as zalo,
        SmscSimulator(SimConfig(receipt_delay=0.01, keep_records=True)) as smsc,
    ):
        config = gateway_config(
            broker_port=broker.port, smsc_port=smsc.port, db=tmp_path / "gateway.db",
            client_id="gw-zalo-e2e",
        )  # fmt: skip
        config = daemon_on_zalo(config, zalo, hook_port, fallback_after=FALLBACK_AFTER)
        config = dataclasses.replace(config, admin=AdminConfig(enabled=False))
        config = dataclasses.replace(
            config, mqtt=dataclasses.replace(config.mqtt, topic_prefix=prefix)
        )
        async with StatusWatch(broker.port, prefix) as watch, running_gateway(config):
            yield Rig(zalo, smsc, watch, broker.port, prefix)


async def result_notice(rig: Rig, n: int, phone: str) -> str:
    event = dossier_event(n, phone=national(phone))
    await publish(rig.broker_port, [(f"{rig.prefix}/SCT/dossier", event)])
    return f"{event['event_id']}:result"


def trail(rig: Rig, ref: str) -> list[tuple[str, str | None]]:
    return [(e["state"], e.get("channel")) for e in rig.watch.events if e["id"] == ref]


def sms_to(rig: Rig, phone: str) -> int:
    return sum(1 for r in rig.smsc.records if r.destination == phone)


async def final(rig: Rig, ref: str, timeout: float = 15) -> list[dict[str, Any]]:
    return await rig.watch.wait_for(
        lambda events: any(e["id"] == ref and e["state"] == "delivered" for e in events),
        timeout=timeout,
    )


async def test_a_citizen_on_zalo_is_told_by_zalo_and_no_sms_goes(rig):
    ref = await result_notice(rig, 1, DELIVERED)

    await final(rig, ref)

    assert trail(rig, ref) == [("queued", "zalo"), ("submitted", "zalo"), ("delivered", "zalo")]
    assert sms_to(rig, DELIVERED) == 0
    (sent,) = [z for z in rig.zalo.sim.sent if z.phone == DELIVERED]
    assert sent.template_data == {"ma_ho_so": "0101700001", "co_quan": "Sở Công Thương"}


async def test_a_citizen_without_zalo_is_told_by_sms_at_once(rig):
    await rig.zalo.control("POST", "/rules", {"phone": NO_ZALO, "rule": "no_zalo"})
    ref = await result_notice(rig, 2, NO_ZALO)

    await final(rig, ref)

    assert trail(rig, ref) == [
        ("queued", "zalo"), ("queued", "sms"), ("submitted", "sms"), ("delivered", "sms")
    ]  # fmt: skip
    handed = [e for e in rig.watch.events if e["id"] == ref][1]
    assert handed["reason"].startswith("zalo: -118")
    assert sms_to(rig, NO_ZALO) == 1


async def test_a_notice_zalo_never_confirms_goes_by_sms_when_the_timer_ends(rig):
    await rig.zalo.control("POST", "/rules", {"phone": NEVER, "rule": "never_delivered"})
    ref = await result_notice(rig, 3, NEVER)

    await final(rig, ref, timeout=FALLBACK_AFTER + 15)

    assert trail(rig, ref) == [
        ("queued", "zalo"), ("submitted", "zalo"), ("queued", "sms"), ("submitted", "sms"),
        ("delivered", "sms"),
    ]  # fmt: skip
    handed = [e for e in rig.watch.events if e["id"] == ref][2]
    assert handed["reason"] == "zalo: no receipt within 1.5 s"
    assert sms_to(rig, NEVER) == 1


@pytest.mark.parametrize(
    "tracking", ["999999-000000000000", "not ours", None], ids=["unknown", "garbage", "none"]
)
async def test_a_signed_receipt_naming_no_notice_of_ours_is_taken_and_changes_nothing(
    rig, tracking
):
    ref = await result_notice(rig, 7, DELIVERED)
    await final(rig, ref)
    before = list(rig.watch.events)

    answer = await rig.zalo.sim.post_receipt("zmsg-forged", tracking)
    ref2 = await result_notice(rig, 8, DELIVERED)  # the daemon goes on as before
    await final(rig, ref2)

    assert answer == 200  # taken, so that Zalo stops sending it; nothing in it is believed
    assert [e for e in rig.watch.events if e["id"] != ref2] == before


async def test_a_lookup_in_the_zalo_chat_is_answered_in_the_chat(rig):
    ref = await result_notice(rig, 4, DELIVERED)  # the dossier is mirrored once it is told
    await final(rig, ref)
    submits = len(rig.smsc.records)

    await rig.zalo.control("POST", "/user_text", {"user_id": "u-77", "text": "0101700004"})

    async def answered() -> list[dict[str, Any]]:
        _, chat = await rig.zalo.control("GET", "/chat")
        return chat

    await eventually(answered, timeout=15)
    (reply,) = await answered()
    assert reply["user_id"] == "u-77"
    assert "(0101700004)" in reply["text"]
    assert len(rig.smsc.records) == submits  # no SMS, no fee


async def test_the_report_counts_the_notices_zalo_delivered_and_those_it_handed_to_sms(
    rig, tmp_path
):
    await rig.zalo.control("POST", "/rules", {"phone": NO_ZALO, "rule": "no_zalo"})
    refs = [await result_notice(rig, 5, DELIVERED), await result_notice(rig, 6, NO_ZALO)]
    for ref in refs:
        await final(rig, ref)

    zone = default_config().tz
    today = datetime.now(zone).date()  # the days around it: a run across midnight
    async with Store.open(tmp_path / "gateway.db", readonly=True) as store:
        figures = Figures(store.database, zone, 450, 300)
        rows = await figures.table(today - timedelta(days=1), today + timedelta(days=1), ())
    (total,) = json.loads(render(rows, (), "json"))

    assert total["notices_delivered"] == 2
    assert (total["zalo_delivered"], total["zalo_fallbacks"]) == (1, 1)
    assert (total["segments"], total["cost_vnd"], total["zalo_cost_vnd"]) == (1, 450, 300)
    assert total["total_cost_vnd"] == 750
