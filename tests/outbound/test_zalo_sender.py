"""The Zalo sender with a real store and the bundled Zalo simulator over real HTTP, no
daemon: what each of Zalo's answers makes of a notice (Zalo, SMS at once, SMS after the
retries, stopped, expired), quiet hours, a chat reply, and the window of requests in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from gateway.compose.composer import Composer
from gateway.domain.channel import Channel
from gateway.kit.schemas import schema
from gateway.outbound.zalo import ZaloSender
from gateway.settings.config import RetryConfig
from gateway.store.store import Store
from gateway.zalo.client import zalo_client
from tests.support.channels import RESULT, zalo_composer
from tests.support.clock import NOON, QUIET, TZ, Ticking, at
from tests.support.figures import dossier
from tests.support.store_reads import db_rows
from tests.support.wait import eventually
from tests.support.zalo import DELIVERED, NO_ZALO, QUOTA, ZaloRig, zalo_rig

RETRY = RetryConfig(max_attempts=3, base_delay=0.05, max_delay=0.2)
# One try, then a minute's back-off: the test acts between the two.
SLOW_RETRY = RetryConfig(max_attempts=3, base_delay=60, max_delay=60)
FALLBACK_AFTER = 600.0


def national(international: str) -> str:
    return "0" + international[2:]


@dataclasses.dataclass
class SenderRig:
    zalo: ZaloRig
    store: Store
    clock: Ticking
    composer: Composer
    run: Callable[[], Coroutine[Any, Any, None]]
    sender: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the sender (again, after `stop`: as a restarted daemon's does)."""
        self.sender = asyncio.create_task(self.run())

    async def stop(self) -> None:
        """Stop the sender as the daemon's stop does: its requests in flight cancelled."""
        assert self.sender is not None
        self.sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.sender

    async def notice(self, ref: str, phone: str = DELIVERED) -> None:
        """The result notice `ref` to `phone`, queued on Zalo as intake queues it."""
        row = dossier(ref, status="result_ready", phone=national(phone))
        message = self.composer.notice("result", row, event_id=ref, ref=ref)
        assert message.channel is Channel.ZALO
        await self.store.dossiers.record_intake(dossiers=[row], messages=[message])

    async def chat_reply(self, ref: str, user: str = "u-1") -> None:
        """A reply to a lookup made in the OA chat by `user`, queued."""
        message = self.composer.text("SCT", ref=ref, kind="mo_reply", to=None,
                                     text="Ho so 0101", chat_user=user)  # fmt: skip
        await self.store.dossiers.record_intake(messages=[message])

    async def row(self, ref: str) -> tuple[str, str, str | None]:
        """(state, channel, reason) of `ref` in the store."""
        ((state, channel, reason),) = await db_rows(
            self.store, "SELECT state, channel, reason FROM messages WHERE ref = ?", [ref]
        )
        return state, channel, reason

    async def statuses(self, ref: str) -> list[dict[str, Any]]:
        """The statuses the store holds for publishing for `ref`, oldest first."""
        pending = await self.store.statuses.pending(10_000)
        return [s for s in (json.loads(p) for _, _, p in pending) if s["id"] == ref]

    async def becomes(self, ref: str, state: str, channel: str, timeout: float = 10) -> None:
        async def there() -> bool:
            return (await self.row(ref))[:2] == (state, channel)

        await eventually(there, timeout, poll=0.02)


async def attempts_are(rig: SenderRig, n: int) -> bool:
    """The one message's attempts, as recorded, are `n`."""
    return await db_rows(rig.store, "SELECT attempts FROM messages", []) == [(n,)]


@contextlib.asynccontextmanager
async def sending(
    tmp_path: Path,
    store_location: str | Path,
    *,
    start: float = NOON,
    window: int = 4,
    quiet: bool = False,
    timeout: float = 2.0,
    retry: RetryConfig = RETRY,
) -> AsyncIterator[SenderRig]:
    """The simulator, a store, and the Zalo sender running on them with a clock that
    starts at `start` (noon by default; quiet hours only with `quiet`); `timeout` is how
    long the client waits for each of Zalo's answers."""
    clock = Ticking(start)
    async with (
        zalo_rig(tmp_path, templates={RESULT.template_id: True}) as zalo,
        zalo_client(zalo.settings(timeout=timeout)) as client,
        Store.open(store_location, clock=clock) as store,
    ):
        sender = ZaloSender(
            store.outbox, store.zalo, client, retry, fallback_after=FALLBACK_AFTER, window=window,
            clock=clock, quiet=QUIET if quiet else None, tz=TZ if quiet else None,
        )  # fmt: skip
        rig = SenderRig(zalo, store, clock, zalo_composer(clock), sender.run)
        rig.start()
        try:
            yield rig
        finally:
            await rig.stop()


async def test_a_notice_zalo_accepts_is_submitted_with_its_fallback_timer(tmp_path, store_location):
    async with sending(tmp_path, store_location) as rig:
        await rig.notice("n1")
        await rig.becomes("n1", "submitted", "zalo")

        ((channel_id, fallback_at, updated_at),) = await db_rows(
            rig.store, "SELECT channel_id, fallback_at, updated_at FROM messages", []
        )
    (sent,) = rig.zalo.sim.sent
    assert channel_id == sent.msg_id
    assert fallback_at == pytest.approx(updated_at + FALLBACK_AFTER, abs=1.0)


async def test_a_number_out_of_quota_goes_by_sms_at_once(tmp_path, store_location):
    async with sending(tmp_path, store_location) as rig:
        await rig.zalo.control("POST", "/rules", {"phone": QUOTA, "rule": "quota"})
        await rig.notice("n1", QUOTA)
        await rig.becomes("n1", "queued", "sms")

        assert (await rig.row("n1"))[2].startswith("zalo: -115")
    assert rig.zalo.sim.sent == []


async def test_a_number_without_zalo_goes_by_sms_at_once(tmp_path, store_location):
    async with sending(tmp_path, store_location) as rig:
        await rig.zalo.control("POST", "/rules", {"phone": NO_ZALO, "rule": "no_zalo"})
        await rig.notice("n1", NO_ZALO)
        await rig.becomes("n1", "queued", "sms")

        assert (await rig.row("n1"))[2].startswith("zalo: -118")


async def test_a_template_zalo_has_not_approved_goes_by_sms_at_once(tmp_path, store_location):
    async with sending(tmp_path, store_location) as rig:
        await rig.zalo.control(
            "POST", "/templates", {"template_id": RESULT.template_id, "approved": False}
        )
        await rig.notice("n1")
        await rig.becomes("n1", "queued", "sms")

        assert (await rig.row("n1"))[2].startswith("zalo: -117")
    assert rig.zalo.sim.sent == []


async def test_a_token_revoked_for_good_stops_zalo_and_the_next_notices_go_by_sms_unasked(
    tmp_path,
    store_location,
):
    async with sending(tmp_path, store_location) as rig:
        await rig.zalo.control("POST", "/revoke", {"for_good": True})
        await rig.notice("n1")
        await rig.becomes("n1", "queued", "sms")
        asked = rig.zalo.sim.stats()

        await rig.notice("n2")
        await rig.notice("n3")
        await rig.becomes("n2", "queued", "sms")
        await rig.becomes("n3", "queued", "sms")

        assert (await rig.row("n1"))[2].startswith("zalo: -124")
        assert (await rig.row("n3"))[2] == "zalo: stopped, the gateway's access was refused"
    # n1: refused, refreshed, refused again; n2 and n3: Zalo not asked at all.
    assert asked["refused_tokens"] == 2
    assert rig.zalo.sim.stats()["refused_tokens"] == asked["refused_tokens"]
    assert rig.zalo.sim.stats()["refreshes"] == asked["refreshes"]
    assert rig.zalo.sim.sent == []


async def test_zalo_down_is_retried_with_back_off_then_the_notice_goes_by_sms(
    tmp_path, store_location
):
    async with sending(tmp_path, store_location) as rig:
        await rig.zalo.control("POST", "/down", {})
        await rig.notice("n1")
        await rig.becomes("n1", "queued", "sms")

        reason = (await rig.row("n1"))[2]
    assert reason.startswith(f"zalo: retries exhausted ({RETRY.max_attempts}), last: 503")
    assert rig.zalo.sim.down_answers == RETRY.max_attempts


@pytest.mark.parametrize("refuse", [False, True], ids=["http-503", "connection-refused"])
async def test_the_status_of_a_notice_handed_to_sms_after_its_retries_is_a_valid_status(
    tmp_path, store_location, refuse
):
    async with sending(tmp_path, store_location) as rig:
        await rig.zalo.control("POST", "/down", {"refuse": refuse})
        await rig.notice("n1")
        await rig.becomes("n1", "queued", "sms")

        statuses = await rig.statuses("n1")
    assert [(s["state"], s["channel"]) for s in statuses] == [("queued", "zalo"), ("queued", "sms")]
    validator = Draft202012Validator(schema("status"))
    assert [e.message for s in statuses for e in validator.iter_errors(s)] == []


async def test_zalo_down_for_a_moment_is_retried_and_the_notice_goes_by_zalo(
    tmp_path, store_location
):
    async with sending(tmp_path, store_location, retry=SLOW_RETRY) as rig:
        await rig.zalo.control("POST", "/down", {})
        await rig.notice("n1")
        await eventually(lambda: attempts_are(rig, 1))
        await rig.zalo.control("POST", "/up")
        rig.clock.now += SLOW_RETRY.max_delay  # its back-off ends

        await rig.becomes("n1", "submitted", "zalo")
    assert len(rig.zalo.sim.sent) == 1


async def test_a_notice_whose_ttl_ended_is_expired_unsent(tmp_path, store_location):
    async with sending(tmp_path, store_location, retry=SLOW_RETRY) as rig:
        await rig.zalo.control("POST", "/down", {})  # held back until its TTL is over
        await rig.notice("n1")
        await eventually(lambda: attempts_are(rig, 1))
        rig.clock.now += 49 * 3600  # past its TTL, and past its back-off
        await rig.zalo.control("POST", "/up")

        await rig.becomes("n1", "expired", "zalo")
    assert rig.zalo.sim.sent == []


async def test_in_quiet_hours_notices_wait_and_a_chat_reply_goes(tmp_path, store_location):
    async with sending(tmp_path, store_location, start=at(21, 5), quiet=True) as rig:
        await rig.notice("n1")
        await rig.chat_reply("r1")
        await rig.becomes("r1", "delivered", "zalo")

        assert await rig.row("n1") == ("queued", "zalo", None)
    assert rig.zalo.sim.sent == []
    assert [c["user_id"] for c in rig.zalo.sim.chat] == ["u-1"]


async def test_a_chat_reply_zalo_refuses_fails(tmp_path, store_location):
    async with sending(tmp_path, store_location) as rig:
        await rig.zalo.control("POST", "/revoke", {"for_good": True})
        await rig.chat_reply("r1")
        await rig.becomes("r1", "failed", "zalo")

        assert (await rig.row("r1"))[2].startswith("zalo: -216")
    assert rig.zalo.sim.chat == []


async def test_at_most_a_window_of_notices_is_in_flight(tmp_path, store_location):
    async with sending(tmp_path, store_location, window=3) as rig:
        rig.zalo.sim.response_delay = 0.1
        for n in range(12):
            await rig.notice(f"n{n}")

        for n in range(12):
            await rig.becomes(f"n{n}", "submitted", "zalo")
    assert rig.zalo.sim.max_in_flight == 3


async def test_a_notice_zalo_answers_too_late_is_not_sent_again_by_zalo(tmp_path, store_location):
    async with sending(tmp_path, store_location, timeout=0.3) as rig:
        rig.zalo.sim.response_delay = 0.6  # Zalo takes it, but answers after the timeout
        await rig.notice("n1")

        async def settled() -> bool:
            left = (await rig.row("n1"))[:2] != ("queued", "zalo")
            return left and rig.zalo.sim.in_flight == 0

        await eventually(settled, timeout=10, poll=0.05)
        # Zalo may have it: its receipt settles it, or the fallback timer sends the SMS.
        assert (await rig.row("n1"))[:2] == ("submitted", "zalo")
        ((fallback_at,),) = await db_rows(rig.store, "SELECT fallback_at FROM messages", [])
        assert fallback_at == pytest.approx(rig.clock() + FALLBACK_AFTER, abs=2.0)
        (sent,) = rig.zalo.sim.sent
        assert await rig.store.zalo.delivered(sent.tracking_id or "", sent.msg_id) == "delivered"
        assert [(s["state"], s["channel"]) for s in await rig.statuses("n1")] == [
            ("queued", "zalo"), ("submitted", "zalo"), ("delivered", "zalo")
        ]  # fmt: skip


async def test_a_notice_in_flight_when_the_sender_stops_is_not_sent_again_at_the_next_start(
    tmp_path,
    store_location,
):
    async with sending(tmp_path, store_location) as rig:
        rig.zalo.sim.response_delay = 5.0  # taken by Zalo, its answer still to come
        await rig.notice("n1")
        await eventually(lambda: len(rig.zalo.sim.sent) == 1)
        await rig.stop()
        rig.start()

        await rig.becomes("n1", "submitted", "zalo")
        assert len(rig.zalo.sim.sent) == 1
        assert await rig.store.outbox.due(10, channel=Channel.ZALO) == []
        (sent,) = rig.zalo.sim.sent
        assert await rig.store.zalo.delivered(sent.tracking_id or "", sent.msg_id) == "delivered"


async def test_a_notice_whose_retry_is_recorded_is_sent_again_after_a_restart(
    tmp_path, store_location
):
    async with sending(tmp_path, store_location, retry=SLOW_RETRY) as rig:
        await rig.zalo.control("POST", "/down", {})
        await rig.notice("n1")
        await eventually(lambda: attempts_are(rig, 1))
        await rig.stop()

        assert await rig.store.zalo.unanswered_at_start() == 0
        assert (await rig.row("n1"))[:2] == ("queued", "zalo")
