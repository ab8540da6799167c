"""The outbox end to end against the simulator: every transition, durable and published."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from gateway.app import composer_settings
from gateway.compose.composer import Composer
from gateway.domain.message import Outcome, PartResult, Priority
from gateway.outbound.sender import Sender
from gateway.outbound.tracker import Tracker
from gateway.settings.config import default_config
from gateway.smpp.inbound import Inbound
from gateway.smpp.receipt import Receipt
from gateway.smpp.session import Session
from gateway.smpp.sim import Rule, SimConfig, SmscSimulator
from gateway.store.store import Store
from tests.support.clock import NOON, TZ
from tests.support.outbox import OutboxRig, config
from tests.support.session import session_config
from tests.support.store_reads import db_rows
from tests.support.wait import eventually


@pytest.fixture
async def rig(tmp_path, store_location) -> AsyncIterator[OutboxRig[SmscSimulator]]:
    cfg = config(max_attempts=3)
    async with (
        SmscSimulator(SimConfig(receipt_delay=0.01)) as smsc,
        Store.open(store_location) as store,
        Tracker(store.receipts) as tracker,
    ):

        async def on_deliver(item: Inbound) -> None:
            if isinstance(item, Receipt):
                await tracker.record(item)

        session = Session(session_config(smsc.port, response_timeout=0.3), on_deliver)
        async with session:
            sender = Sender(store.outbox, session, cfg.retry)
            task = asyncio.create_task(sender.run())
            yield OutboxRig(store, smsc, Composer(composer_settings(cfg)))
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_message_goes_queued_submitted_delivered(rig):
    """Each transition is stored and its status is waiting to be published, phone masked."""
    await rig.queue()

    await eventually(lambda: rig.smsc.stats.receipts_acked == 1)
    await eventually_state(rig, "delivered")

    statuses = await rig.statuses()
    assert [s["state"] for s in statuses] == ["queued", "submitted", "delivered"]
    assert {s["to"] for s in statuses} == {"8490*****56"}
    assert statuses[-1]["id"] == "job-1" and statuses[-1]["segments"] == 1


async def test_long_message_is_delivered_when_all_parts_are(rig):
    """Three UCS-2 parts, three receipts: delivered once, after the last."""
    await rig.queue(text="Hồ sơ của quý Ông/Bà " * 8)

    await eventually_state(rig, "delivered")

    assert rig.smsc.stats.submits == len(rig.smsc.records) >= 2
    assert {r.esm_class for r in rig.smsc.records} == {0x40}
    delivered = [s for s in await rig.statuses() if s["state"] == "delivered"]
    assert len(delivered) == 1


async def test_permanent_error_fails_at_once(rig):
    """ESME_RINVDSTADR: failed after one attempt, with the SMSC's reason."""
    rig.smsc.config.rules = (Rule("849051*", "reject"),)
    await rig.queue()

    await eventually_state(rig, "failed")

    assert rig.smsc.stats.submits == 1
    assert (await rig.statuses())[-1]["reason"] == "smsc: ESME_RINVDSTADR"


async def test_transient_error_is_retried_then_delivered(rig):
    """Queue full twice, then accepted: delivered, with three submits at the SMSC."""
    rig.smsc.config.rules = (Rule("849051*", "transient", count=2),)
    await rig.queue()

    await eventually_state(rig, "delivered")

    assert rig.smsc.stats.submits == 3


async def test_retries_end_after_max_attempts(rig):
    """Transient every time: failed after max_attempts, saying so."""
    rig.smsc.config.rules = (Rule("849051*", "transient", count=99),)
    await rig.queue()

    await eventually_state(rig, "failed")

    assert rig.smsc.stats.submits == 3
    assert "retries exhausted (3)" in (await rig.statuses())[-1]["reason"]


@pytest.mark.slow
async def test_missing_response_ends_in_a_final_state(rig):
    """Never answered on a connection that stays up: each time the connection is retired
    (relink_after) and the submit sent again, each an attempt, failed at max_attempts."""
    rig.smsc.config.rules = (Rule("849051*", "no_response"),)
    await rig.queue()

    await eventually_state(rig, "failed", timeout=15)

    assert rig.smsc.stats.submits == 3
    assert rig.smsc.stats.binds == 3
    assert "outcome unknown" in (await rig.statuses())[-1]["reason"]


async def test_response_after_the_timeout_settles_without_a_paid_copy(rig):
    """submit_sm_resp 0.2 s after response_timeout: one submit, delivered, no retry."""
    rig.smsc.config.response_delay = 0.5
    await rig.queue()

    await eventually_state(rig, "delivered", timeout=10)

    assert rig.smsc.stats.submits == 1
    assert [s["state"] for s in await rig.statuses()] == ["queued", "submitted", "delivered"]


async def test_generic_nack_saying_ok_is_a_failed_attempt_that_backs_off(rig):
    """generic_nack status 0 to a submit: a transient failure counted and backed off
    (it looped thousands of times a second, attempts unchanged, when taken for OK)."""
    rig.smsc.config.rules = (Rule("849051*", "nack"),)
    await rig.queue()

    await eventually_state(rig, "failed")

    assert rig.smsc.stats.submits == 3
    assert "retries exhausted (3)" in (await rig.statuses())[-1]["reason"]


async def test_text_that_cannot_be_encoded_fails_after_its_attempts(rig):
    """More than 255 parts makes encode raise: each attempt counts and backs off, and the
    message ends failed with the error named, instead of a hot loop."""
    # Intake refuses such a text; one stored before that rule (or by a bug) must not loop.
    message = rig.composer.text("SCT", ref="long", kind="sms", to="0905123456", text="a")
    long = dataclasses.replace(message, text="a" * (153 * 256), state="queued", reason=None)
    await rig.store.dossiers.record_intake(messages=[long])

    await eventually_state(rig, "failed")

    assert rig.smsc.stats.submits == 0
    assert "last: error: ValueError" in (await rig.statuses())[-1]["reason"]


async def test_submit_carries_the_ttl_as_validity_period(rig):
    """The SMSC is told when the notice stops being worth delivering: the TTL left."""
    message = rig.composer.text("SCT", ref="v", kind="sms", to="0905123456", text="x")
    expires = time.time() + 7200
    await rig.store.dossiers.record_intake(
        messages=[dataclasses.replace(message, expires_at=expires)]
    )

    await eventually_state(rig, "delivered")

    period = rig.smsc.records[0].validity_period
    left = int(period[6:8]) * 3600 + int(period[8:10]) * 60 + int(period[10:12])
    assert period.endswith("000R") and 7190 <= left <= 7200


async def test_undeliverable_receipt_ends_undeliverable(rig):
    rig.smsc.config.rules = (Rule("849051*", "undeliverable"),)
    await rig.queue()

    await eventually_state(rig, "undeliverable")

    assert (await rig.statuses())[-1]["reason"].startswith("receipt: UNDELIV")


async def test_message_past_its_ttl_expires_unsent(rig):
    """A message whose TTL ended before it could go is `expired`, never dropped."""
    message = rig.composer.text("SCT", ref="old", kind="sms", to="0905123456", text="x")
    await rig.store.dossiers.record_intake(messages=[dataclasses.replace(message, expires_at=0.0)])

    await eventually_state(rig, "expired")

    assert rig.smsc.stats.submits == 0


# `segments` is what the text takes in every state (docs/schema/status.json), sent or not.
TWO_PARTS = "Thong bao " * 20  # 200 GSM-7 characters: two parts


async def test_a_failed_message_reports_the_segments_its_text_takes(rig):
    rig.smsc.config.rules = (Rule("849051*", "reject"),)
    await rig.queue(text=TWO_PARTS)

    await eventually_state(rig, "failed")

    assert [(s["state"], s["segments"]) for s in await rig.statuses()] == [
        ("queued", 2), ("failed", 2),
    ]  # fmt: skip


async def test_a_message_past_its_ttl_reports_the_segments_its_text_takes(rig):
    message = rig.composer.text("SCT", ref="old", kind="sms", to="0905123456", text=TWO_PARTS)
    await rig.store.dossiers.record_intake(messages=[dataclasses.replace(message, expires_at=0.0)])

    await eventually_state(rig, "expired")

    assert [(s["state"], s["segments"]) for s in await rig.statuses()] == [
        ("queued", 2), ("expired", 2),
    ]  # fmt: skip


async def test_repeated_ref_is_stored_once(rig):
    """The same (agency, ref) twice: one message, one set of statuses."""
    await rig.queue(ref="same")
    await rig.queue(ref="same")

    await eventually_state(rig, "delivered")

    assert rig.smsc.stats.submits == 1


async def submitted(store: Store, ref: str, part_keys: list[frozenset[str]]) -> None:
    """One message, submitted with one part per key set."""
    composer = Composer(composer_settings(config()), clock=lambda: NOON)
    message = composer.text("SCT", ref=ref, kind="sms", to="0905123456", text="x")
    await store.dossiers.record_intake(messages=[message])
    (queued,) = [m for m in await store.outbox.due(100) if m.ref == ref]
    parts = [PartResult(queued.id, n, f"id{n}", keys) for n, keys in enumerate(part_keys, 1)]
    await store.outbox.record_outcomes(
        [Outcome(queued, "submitted", 1, NOON, segments=len(parts), parts=parts)]
    )


async def eventually_state(rig: OutboxRig[Any], state: str, timeout: float = 5.0) -> None:
    async def reached() -> bool:
        return (await rig.states()).get(state, 0) >= 1

    await eventually(reached, timeout, poll=0.02)


class TestStore:
    async def test_receipt_before_its_response_is_matched(self, tmp_path, store_location):
        """A receipt overtaking submit_sm_resp is kept and applied when the id is stored."""
        composer = Composer(composer_settings(config()), clock=lambda: NOON)
        async with Store.open(store_location, clock=lambda: NOON) as store:
            msg = composer.text("SCT", ref="r", kind="sms", to="0905123456", text="x")
            await store.dossiers.record_intake(messages=[msg])
            (queued,) = await store.outbox.due(10)

            await store.receipts.record_receipts([(frozenset({"n:255"}), "delivered", None)])
            await store.outbox.record_outcomes(
                [
                    Outcome(
                        queued,
                        "submitted",
                        1,
                        NOON,
                        segments=1,
                        parts=[PartResult(queued.id, 1, "FF", frozenset({"n:255"}))],
                    )
                ]
            )

            assert await store.outbox.counts() == {"delivered": 1}

    async def test_late_enroute_receipt_does_not_undo_delivered(self, tmp_path, store_location):
        """delivered then ENROUTE for the same part in one batch: still delivered."""
        async with Store.open(store_location, clock=lambda: NOON) as store:
            await submitted(store, "r", [frozenset({"n:1"})])

            await store.receipts.record_receipts(
                [(frozenset({"n:1"}), "delivered", None), (frozenset({"n:1"}), "enroute", None)]
            )

            assert await store.outbox.counts() == {"delivered": 1}

    async def test_one_batch_settles_some_and_keeps_unknown_receipts(
        self, tmp_path, store_location
    ):
        """A batch mixing known and not-yet-known ids: the known settle, the rest wait."""
        async with Store.open(store_location, clock=lambda: NOON) as store:
            await submitted(store, "a", [frozenset({"n:1"})])
            await submitted(store, "b", [frozenset({"n:2"})])

            await store.receipts.record_receipts(
                [
                    (frozenset({"n:1"}), "delivered", None),
                    (frozenset({"n:2"}), "undeliverable", "receipt: UNDELIV err:001"),
                    (frozenset({"n:3"}), "delivered", None),
                ]
            )
            early = await db_rows(store, "SELECT key FROM early_receipts")

            assert await store.outbox.counts() == {"delivered": 1, "undeliverable": 1}
            assert early == [("n:3",)]
            (reason,) = await db_rows(store, "SELECT reason FROM messages WHERE ref = 'b'")
            assert reason == ("receipt: UNDELIV err:001",)

    async def test_two_part_message_waits_for_both_receipts(self, tmp_path, store_location):
        async with Store.open(store_location, clock=lambda: NOON) as store:
            await submitted(store, "r", [frozenset({"n:1"}), frozenset({"n:2"})])

            await store.receipts.record_receipts([(frozenset({"n:1"}), "delivered", None)])
            first = await store.outbox.counts()
            await store.receipts.record_receipts([(frozenset({"n:2"}), "delivered", None)])

            assert first == {"submitted": 1}
            assert await store.outbox.counts() == {"delivered": 1}

    async def test_mo_replies_go_before_notices_before_apologies(self, tmp_path, store_location):
        """The priority lanes: a citizen's reply is never behind a pile of apologies."""
        composer = Composer(composer_settings(config()), clock=lambda: NOON)
        async with Store.open(store_location, clock=lambda: NOON) as store:
            lanes = [Priority.APOLOGY] * 5 + [Priority.NOTICE] * 2 + [Priority.MO_REPLY]
            await store.dossiers.record_intake(
                messages=[
                    composer.text(
                        "SCT", ref=f"m{i}", kind="sms", to="0905123456", text="x", priority=p
                    )
                    for i, p in enumerate(lanes)
                ]
            )

            due = await store.outbox.due(3)

            assert [m.priority for m in due] == [0, 1, 1]

    async def test_schema_survives_reopening(self, tmp_path, store_location):
        """Migrations run once; reopening keeps the data."""
        composer = Composer(composer_settings(config()), clock=lambda: NOON)
        async with Store.open(store_location) as store:
            await store.dossiers.record_intake(
                messages=[composer.text("SCT", ref="a", kind="sms", to="0905123456", text="x")]
            )
        async with Store.open(store_location) as store:
            assert await store.outbox.counts() == {"queued": 1}


class TestComposer:
    def test_notice_at_night_waits_for_seven_in_the_morning(self):
        """Quiet hours 21:00-07:00: queued at 22:00, due at 07:00 next day."""
        ten_pm = datetime(2026, 11, 23, 22, 0, tzinfo=TZ).timestamp()
        composer = Composer(composer_settings(default_config()), clock=lambda: ten_pm)

        message = composer.text("SCT", ref="n", kind="sms", to="0905123456", text="x")

        assert datetime.fromtimestamp(message.not_before, TZ) == datetime(
            2026, 11, 24, 7, 0, tzinfo=TZ
        )

    def test_mo_reply_does_not_wait_for_quiet_hours(self):
        ten_pm = datetime(2026, 11, 23, 22, 0, tzinfo=TZ).timestamp()
        composer = Composer(composer_settings(default_config()), clock=lambda: ten_pm)

        message = composer.text(
            "SCT", ref="n", kind="mckh", to="0905123456", text="x", priority=Priority.MO_REPLY
        )

        assert message.not_before == ten_pm

    @pytest.mark.parametrize(
        ("phone", "reason"),
        [
            ("0258 3822 123", "phone: landline"),
            ("1900 1234", "phone: service_number"),
            (None, "phone: missing"),
        ],
    )
    def test_bad_number_is_rejected_with_a_precise_reason(self, phone, reason):
        composer = Composer(composer_settings(config()), clock=lambda: NOON)

        message = composer.text("SCT", ref="n", kind="sms", to=phone, text="x")

        assert message.state == "rejected"
        assert reason in message.reason

    def test_number_is_stored_in_international_form(self):
        message = Composer(composer_settings(config()), clock=lambda: NOON).text(
            "SCT", ref="n", kind="sms", to="0905 123 456", text="x"
        )

        assert message.phone == "84905123456"
