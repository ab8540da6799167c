"""The receipt-expiry sweep as the daemon runs it: on a real store, with a fixed clock."""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from gateway.app import composer_settings
from gateway.compose.composer import Composer
from gateway.domain.message import Outcome, PartResult
from gateway.domain.states import PartState
from gateway.outbound.tracker import expire_unreceipted, part_state, sweep_interval
from gateway.settings.config import default_config
from gateway.smpp.receipt import ReceiptState
from gateway.store.store import Store
from tests.support.store_reads import db_rows

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOON = datetime(2026, 11, 23, 12, 0, tzinfo=TZ).timestamp()
TIMEOUT = 1.0  # receipt_timeout: a sweep every 0.1 s


async def old_submitted(store: Store, ref: str = "r", link: str = "default") -> None:
    composer = Composer(composer_settings(default_config()), clock=lambda: NOON)
    await store.dossiers.record_intake(
        messages=[composer.text("SCT", ref=ref, kind="sms", to="0905123456", text="x")]
    )
    (queued,) = await store.outbox.due(10)
    part = PartResult(queued.id, 1, ref, frozenset({f"n:{ref}@{link}"}))
    await store.outbox.record_outcomes(
        [Outcome(queued, "submitted", 1, NOON, segments=1, parts=[part], link=link)]
    )


def test_sweep_interval_is_a_tenth_of_the_timeout_within_bounds():
    assert [sweep_interval(t) for t in (0.5, 2.0, 172800.0)] == [0.1, 0.2, 60.0]


async def test_sweep_expires_nothing_while_unbound_and_expires_once_bound(tmp_path, store_location):
    """Unbound, receipts cannot come, so nothing expires however old; bound, it does."""
    bound = False
    now = NOON
    async with Store.open(store_location, clock=lambda: now) as store:
        await old_submitted(store)
        now += 10 * TIMEOUT
        sweep = asyncio.create_task(
            expire_unreceipted(store.receipts, TIMEOUT, receiving=lambda: {"default": bound})
        )
        try:
            await asyncio.sleep(5 * sweep_interval(TIMEOUT))
            unbound = await store.outbox.counts()
            bound = True
            async with asyncio.timeout(5):
                while await store.outbox.counts() != {"expired": 1}:
                    await asyncio.sleep(0.01)
        finally:
            sweep.cancel()
            await asyncio.gather(sweep, return_exceptions=True)

    assert unbound == {"submitted": 1}


async def test_a_link_down_holds_only_its_own_messages_receipt_expiry(tmp_path, store_location):
    """Viettel down, VNPT bound: VNPT's message without a receipt expires; Viettel's,
    whose receipts cannot come now, waits for its link."""
    now = NOON
    async with Store.open(store_location, clock=lambda: now) as store:
        await old_submitted(store, "on-viettel", "viettel")
        await old_submitted(store, "on-vnpt", "vnpt")
        now += 10 * TIMEOUT
        links = {"viettel": False, "vnpt": True}
        sweep = asyncio.create_task(
            expire_unreceipted(store.receipts, TIMEOUT, receiving=lambda: links)
        )
        try:
            async with asyncio.timeout(5):
                while await store.outbox.counts() != {"expired": 1, "submitted": 1}:
                    await asyncio.sleep(0.01)
            await asyncio.sleep(5 * sweep_interval(TIMEOUT))
            rows = await db_rows(store, "SELECT ref, state FROM messages ORDER BY ref")
        finally:
            sweep.cancel()
            await asyncio.gather(sweep, return_exceptions=True)

    assert rows == [("on-viettel", "submitted"), ("on-vnpt", "expired")]


@pytest.mark.parametrize("state", [s for s in ReceiptState if not s.final])
def test_a_receipt_that_is_not_final_keeps_its_part_enroute(state):
    assert part_state(state) is PartState.ENROUTE


@pytest.mark.parametrize("state", [s for s in ReceiptState if s.final])
def test_a_final_receipt_gives_its_part_a_final_state(state):
    assert part_state(state).is_final


def test_rejected_and_deleted_receipts_fail_their_part():
    assert part_state(ReceiptState.REJECTED) is PartState.FAILED
    assert part_state(ReceiptState.DELETED) is PartState.FAILED
    assert part_state(ReceiptState.DELIVERED) is PartState.DELIVERED
    assert part_state(ReceiptState.UNDELIVERABLE) is PartState.UNDELIVERABLE
    assert part_state(ReceiptState.EXPIRED) is PartState.EXPIRED
