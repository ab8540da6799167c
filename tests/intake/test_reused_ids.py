"""A repeated id sends nothing more (SPEC: a repeated `event_id` or job `id` changes
nothing) and publishes nothing: the agency's status topic is keyed by id, and a `rejected`
for an id whose first message was delivered would contradict its real status. A repeat is
counted instead, by kind and by whether its content matches the first
(`motcua_repeated_ids_total{kind,content}`), and one reused for other content, an
integration error, is logged as a warning naming the agency but no personal data."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from typing import Any

import pytest
import structlog

from gateway.intake.consumer import Received
from gateway.ops.admin import Admin, Observed
from gateway.settings.config import ScheduleConfig, default_config
from gateway.smpp.session import SessionStats
from gateway.store.store import Store
from tests.support.daemon import http_get
from tests.support.intake import intake_on
from tests.support.store_reads import db_rows

PURGED_AT = 2_000_000.0  # the purge, after the store's fixed clock


def event(event_id: str, receipt_no: str, phone: str) -> Received:
    body = {
        "event_id": event_id, "receipt_no": receipt_no, "agency": "SCT",
        "procedure": "Cấp phép", "step": "Trả kết quả", "status": "result_ready",
        "due_date": "2026-11-25", "phone": phone, "occurred_at": "2026-11-22T10:00:00+07:00",
    }  # fmt: skip
    return Received("motcua/SCT/dossier", json.dumps(body, ensure_ascii=False).encode())


def job(job_id: str, to: str) -> Received:
    body = {"id": job_id, "to": to, "text": "Lệ phí 50.000 đồng"}
    return Received("motcua/SCT/sms", json.dumps(body, ensure_ascii=False).encode())


@dataclasses.dataclass
class Outcome:
    repeats: Counter[tuple[str, str]]
    new_statuses: list[dict[str, Any]]
    messages: list[tuple[str, str]]
    receipts: list[str]
    logs: list[dict[str, Any]]


async def _run(store_location, *batches: list[Received], purge: bool = False) -> Outcome:
    """The first batch, then (the purge if asked) the others, through one intake."""
    cfg = dataclasses.replace(
        default_config(), schedule=dataclasses.replace(ScheduleConfig(), quiet_hours=None)
    )
    async with Store.open(store_location, clock=lambda: 1_000_000.0) as store:
        intake = intake_on(store, cfg)
        await intake.process(batches[0])
        before = len(await store.statuses.pending(100))
        if purge:
            await store.retention.purge_personal_data(PURGED_AT)
        with structlog.testing.capture_logs() as logs:
            for batch in batches[1:]:
                await intake.process(batch)
        statuses = await store.statuses.pending(100)
        messages = await db_rows(store, "SELECT ref, phone FROM messages ORDER BY id")
        receipts = [r for (r,) in await db_rows(store, "SELECT receipt_no FROM dossiers")]
    return Outcome(
        repeats=intake.repeats.counts,
        new_statuses=[json.loads(p) for _s, _a, p in statuses[before:]],
        messages=messages,
        receipts=receipts,
        logs=[e for e in logs if e["event"].startswith("intake_id_")],
    )


async def test_an_event_id_reused_for_another_dossier_changes_nothing_and_is_counted(
    store_location,
):
    out = await _run(
        store_location,
        [event("7", "0101701234", "0905123456")],
        [event("7", "0101709999", "0912345678")],
    )
    assert out.repeats == Counter({("event", "different"): 1})
    assert out.new_statuses == [] and out.receipts == ["0101701234"]
    assert [ref for ref, _ in out.messages] == ["7:result"]


async def test_a_job_id_reused_for_another_number_sends_nothing_and_is_counted(store_location):
    out = await _run(store_location, [job("fee-1", "0905123456")], [job("fee-1", "0912345678")])
    assert out.repeats == Counter({("job", "different"): 1})
    assert out.new_statuses == [] and out.messages == [("fee-1", "84905123456")]


async def test_an_id_reused_for_other_content_is_a_warning_without_personal_data(store_location):
    out = await _run(store_location, [job("fee-1", "0905123456")], [job("fee-1", "0912345678")])
    assert out.logs == [
        {"event": "intake_id_reused", "log_level": "warning", "agency": "SCT", "kind": "job",
         "content": "different"}
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "item"),
    [("event", event("7", "0101701234", "0905123456")), ("job", job("fee-1", "0905123456"))],
)
async def test_a_redelivery_is_counted_as_the_same_content_and_is_no_warning(
    store_location, kind, item
):
    out = await _run(store_location, [item], [item])
    assert out.repeats == Counter({(kind, "same"): 1})
    assert out.new_statuses == [] and len(out.messages) == 1
    assert [e["log_level"] for e in out.logs] == ["info"]


async def test_an_id_reused_within_one_batch_is_counted_too(store_location):
    out = await _run(store_location, [], [job("fee-1", "0905123456"), job("fee-1", "0912345678")])
    assert out.repeats == Counter({("job", "different"): 1})
    assert out.messages == [("fee-1", "84905123456")]


async def test_a_repeat_of_an_event_whose_digest_was_purged_is_counted_as_unknown(store_location):
    out = await _run(
        store_location,
        [event("7", "0101701234", "0905123456")],
        [event("7", "0101701234", "0905123456")],
        purge=True,
    )
    assert out.repeats == Counter({("event", "unknown"): 1})
    assert out.new_statuses == []


class _Smpp:
    bound = True
    window_in_use = 0
    stats = SessionStats()


class _Broker:
    connected = True
    refused_publishes = 0
    refused_subscriptions: tuple[str, ...] = ()
    publish_refusals = 0
    subscription_refusals = 0


async def test_repeated_ids_are_served_on_metrics_by_kind_and_content(store_location):
    repeats = Counter({("job", "different"): 2, ("event", "same"): 1})
    async with Store.open(store_location) as store:
        observed = Observed(
            _Smpp(), _Broker(), store.outbox, receipts=Counter(), mo=Counter(), repeated_ids=repeats
        )
        async with Admin(observed, "127.0.0.1", 0) as admin:
            status, text = await http_get(admin.port, "/metrics")
    assert status == 200
    assert 'motcua_repeated_ids_total{content="different",kind="job"} 2.0' in text
    assert 'motcua_repeated_ids_total{content="same",kind="event"} 1.0' in text


async def test_the_purge_clears_the_content_digests_with_the_personal_data(store_location):
    """A digest covers the phone number: it goes with the numbers and texts."""
    cfg = default_config()
    async with Store.open(store_location, clock=lambda: 1_000_000.0) as store:
        intake = intake_on(store, cfg)
        await intake.process([event("7", "0101701234", "0258 3822 123"), job("j", "0")])
        digests = "SELECT COUNT(*) FROM {} WHERE digest IS NOT NULL"
        kept = [await db_rows(store, digests.format(t)) for t in ("events", "messages")]
        await store.retention.purge_personal_data(PURGED_AT)
        left = [await db_rows(store, digests.format(t)) for t in ("events", "messages")]
    assert kept == [[(1,)], [(1,)]] and left == [[(0,)], [(0,)]]
