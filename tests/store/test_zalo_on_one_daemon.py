"""Two daemons on one PostgreSQL store, Zalo configured on one of them (the OA's webhook
reaches one public address; the other host has no `zalo:` section, or not yet during a
rolling change). The daemon without Zalo hands what is still on Zalo to SMS as it starts
(gateway/channels.py: hand_over_from_zalo), but not what a live daemon is working: the
notices it has asked Zalo to send, and none at all while a daemon holds Zalo's fallback
timer (its sender and timer carry them). Else the citizen would get the notice twice, by
Zalo and by SMS, and the agency pay for both."""

from __future__ import annotations

from gateway.domain.channel import Channel
from gateway.outbound.zalo import hand_over_from_zalo
from gateway.store.leases import Job
from tests.support.clock import NOON, Clock
from tests.support.daemons import LEASE, daemon_stores, notices, queue_notices
from tests.support.store_reads import db_rows


async def test_a_daemon_without_zalo_leaves_the_zalo_notices_a_live_daemon_is_sending(
    postgres_url,
):
    clock = Clock(NOON)
    async with daemon_stores(postgres_url, ["with-zalo", "without-zalo"], clock) as (a, b):
        await queue_notices(a, notices(3, NOON, channel=Channel.ZALO), NOON)
        sending = [m.id for m in await a.outbox.due(10, channel=Channel.ZALO)]
        await a.zalo.sending(sending, 60)  # the requests are on their way to Zalo
        clock.now = NOON + 1

        moved = await hand_over_from_zalo(b.zalo)  # b starts, Zalo not configured

        rows = await db_rows(a, "SELECT channel, state FROM messages ORDER BY id")
    assert moved == 0
    assert rows == [("zalo", "queued")] * 3


async def test_a_daemon_without_zalo_hands_nothing_over_while_another_runs_the_zalo_timer(
    postgres_url,
):
    clock = Clock(NOON)
    async with daemon_stores(postgres_url, ["with-zalo", "without-zalo"], clock) as (a, b):
        await queue_notices(a, notices(2, NOON, channel=Channel.ZALO), NOON)
        assert await a.leases.take(Job.ZALO_FALLBACK)  # Zalo is configured on a

        moved = await hand_over_from_zalo(b.zalo)

        rows = await db_rows(a, "SELECT channel, state FROM messages ORDER BY id")
    assert moved == 0
    assert rows == [("zalo", "queued")] * 2


async def test_a_daemon_without_zalo_hands_over_what_a_dead_daemon_left_on_zalo(postgres_url):
    clock = Clock(NOON)
    async with daemon_stores(postgres_url, ["with-zalo", "without-zalo"], clock) as (a, b):
        await queue_notices(a, notices(2, NOON, channel=Channel.ZALO), NOON)
        await a.outbox.due(10, channel=Channel.ZALO)
        assert await a.leases.take(Job.ZALO_FALLBACK)
        clock.now = NOON + LEASE + 1  # a died; its claims and its lease have expired

        moved = await hand_over_from_zalo(b.zalo)

        rows = await db_rows(a, "SELECT channel, state FROM messages ORDER BY id")
    assert moved == 2
    assert rows == [("sms", "queued")] * 2
