"""The Zalo sender of a daemon stalled past its lease and resumed, against the bundled Zalo
simulator over real HTTP: the notices it claimed may be another daemon's by now, so it asks
Zalo for none of them before its next heartbeat, and after it only for those still its own."""

from __future__ import annotations

import asyncio
import contextlib

from gateway.outbound.zalo import ZaloSender
from gateway.settings.config import RetryConfig
from gateway.zalo.client import zalo_client
from tests.support.channels import RESULT, zalo_composer
from tests.support.clock import NOON, Clock
from tests.support.daemons import LEASE, claimant, daemon_store
from tests.support.figures import dossier
from tests.support.store_reads import db_rows
from tests.support.zalo import DELIVERED, zalo_rig

RETRY = RetryConfig(max_attempts=3, base_delay=0.05, max_delay=0.2)
FALLBACK_AFTER = 600.0


async def test_a_zalo_sender_resumed_past_its_lease_sends_no_notice_another_daemon_took(
    tmp_path, store_location
):
    clock = Clock(NOON)
    mono = Clock(1_000.0)
    async with (
        zalo_rig(tmp_path, templates={RESULT.template_id: True}) as zalo,
        zalo_client(zalo.settings()) as client,
        daemon_store(store_location, claimant("a"), clock, monotonic=mono) as a,
        daemon_store(store_location, claimant("b"), clock) as b,
    ):
        composer = zalo_composer(clock)
        for ref in ("n1", "n2"):
            row = dossier(ref, status="result_ready", phone="0" + DELIVERED[2:])
            notice = composer.notice("result", row, event_id=ref, ref=ref)
            await a.dossiers.record_intake(dossiers=[row], messages=[notice])
        assert len(await a.outbox.due(10, channel=notice.channel)) == 2  # a's; then a stops
        mono.now += LEASE + 1
        clock.now = NOON + LEASE + 1
        sender = ZaloSender(
            a.outbox, a.zalo, client, RETRY, fallback_after=FALLBACK_AFTER, clock=clock
        )
        task = asyncio.create_task(sender.run())
        try:
            await asyncio.sleep(0.5)  # a runs again, before its next heartbeat
            assert await b.daemons.beat()
            taken = await b.outbox.due(10, channel=notice.channel)  # b sends them
            assert await a.daemons.beat()
            await asyncio.sleep(1.5)
            rows = await db_rows(a, "SELECT state, claimed_by FROM messages ORDER BY id")
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    assert len(taken) == 2
    assert zalo.sim.sent == []
    assert rows == [("queued", "b")] * 2
