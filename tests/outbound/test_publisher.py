"""Status outbox rows are deleted only up to the oldest one the broker has not confirmed,
and go out with `at` in the configured zone."""

import asyncio
import json
import uuid
from zoneinfo import ZoneInfo

from gateway.domain.status_event import localised, status_event
from gateway.mqtt.link import MqttLink, MqttSettings
from gateway.outbound.publisher import _Progress, publish_statuses
from gateway.store.store import Store
from tests.support.daemon import StatusWatch


def test_rows_count_as_published_only_up_to_the_oldest_unconfirmed():
    progress = _Progress()
    for seq in (1, 2, 3, 4):
        progress.sent(seq)

    progress.done(2)
    progress.done(3)
    before = progress.acked
    progress.done(1)

    assert before == 0
    assert progress.acked == 3


def test_nothing_counts_as_published_before_any_confirmation():
    progress = _Progress()
    progress.sent(7)

    assert progress.acked == 0


async def test_statuses_go_out_with_at_in_the_configured_zone(broker, tmp_path, store_location):
    """Rows written in the default zone (+07:00) are published in the configured one."""
    prefix = f"tz-{uuid.uuid4().hex[:6]}"
    settings = MqttSettings(host=broker.host, port=broker.port, client_id=f"pub-{prefix}")
    async with (
        Store.open(store_location) as store,
        StatusWatch(broker.port, prefix) as watch,
        MqttLink(settings, []) as link,
    ):
        status = status_event(
            ref="r", event_id=None, receipt_no=None, kind="sms", phone=None, state="queued",
            reason=None, segments=1, at=1_795_000_000.0,
        )  # fmt: skip
        assert status["at"] == "2026-11-18T18:06:40+07:00"
        await store.dossiers.record_intake(statuses=[("SCT", status)])
        task = asyncio.create_task(
            publish_statuses(store.statuses, link, prefix, ZoneInfo("Asia/Tokyo"))
        )
        try:
            events = await watch.wait_for(lambda ev: bool(ev), timeout=10)
        finally:
            task.cancel()
    assert events[0]["at"] == "2026-11-18T20:06:40+09:00"


def test_status_at_is_written_in_the_configured_zone():
    stored = json.dumps(
        status_event(
            ref="r", event_id=None, receipt_no=None, kind="sms", phone=None, state="queued",
            reason=None, segments=1, at=1_795_000_000.0,
        )
    )  # fmt: skip
    tokyo = json.loads(localised(stored, ZoneInfo("Asia/Tokyo")))
    utc = json.loads(localised(stored, ZoneInfo("UTC")))
    assert json.loads(stored)["at"].endswith("+07:00")
    assert (tokyo["at"], utc["at"]) == ("2026-11-18T20:06:40+09:00", "2026-11-18T11:06:40+00:00")
