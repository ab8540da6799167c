"""A daemon started without the `zalo:` section while Zalo messages wait in its store
(from a configuration that had it): at start-up the notices still queued on Zalo, or
accepted by Zalo and waiting for its receipt, go by SMS; a chat reply, which only Zalo can
carry, fails; and the daemon keeps running."""

from __future__ import annotations

import time

from gateway.store.store import Store
from tests.support.channels import accepted_by_zalo, zalo_composer
from tests.support.clock import Clock
from tests.support.figures import dossier
from tests.support.zalo_daemon import ZaloDaemon, national, zalo_daemon

QUEUED_ON_ZALO = "84905200001"
WAITING_FOR_ZALO = "84905200002"
LATER = "84905200003"


async def left_on_zalo(rig: ZaloDaemon) -> None:
    """The store as a daemon on Zalo left it: a notice queued on Zalo, one Zalo accepted
    (its fallback timer far off), a reply to a lookup in the chat."""
    clock = Clock(time.time())
    composer = zalo_composer(clock)
    async with Store.open(rig.tmp_path / "gateway.db", clock=clock) as store:
        for ref, phone in (("queued", QUEUED_ON_ZALO), ("waiting", WAITING_FOR_ZALO)):
            row = dossier(ref, status="result_ready", phone=national(phone))
            notice = composer.notice("result", row, event_id=ref, ref=ref)
            await store.dossiers.record_intake(dossiers=[row], messages=[notice])
        reply = composer.text("SCT", ref="reply", kind="mo_reply", to=None,
                              text="Ho so 0101", chat_user="u-1")  # fmt: skip
        await store.dossiers.record_intake(messages=[reply])
        await accepted_by_zalo(store, clock, "waiting")


async def test_zalo_messages_left_in_the_store_are_handed_over_at_start_up(broker, tmp_path):
    async with zalo_daemon(broker.port, tmp_path, fallback_after=600, start=False) as rig:
        await left_on_zalo(rig)
        rig.configure(on_zalo=False)
        await rig.start()

        await rig.reach(["queued", "waiting"], "delivered")
        await rig.reach(["reply"], "failed")
        (later,) = await rig.notices([LATER])
        await rig.reach([later], "delivered")
        assert rig.daemon is not None and rig.daemon.returncode is None

    assert rig.trail("queued")[-4:] == [
        ("queued", "zalo"), ("queued", "sms"), ("submitted", "sms"), ("delivered", "sms")
    ]  # fmt: skip
    assert rig.trail("waiting")[-4:] == [
        ("submitted", "zalo"), ("queued", "sms"), ("submitted", "sms"), ("delivered", "sms")
    ]  # fmt: skip
    assert rig.events("waiting")[-3]["reason"] == "zalo: not configured"
    assert rig.trail("reply") == [("queued", "zalo"), ("failed", "zalo")]
    assert rig.events("reply")[-1]["reason"] == "zalo: not configured"
    assert [rig.sms_to(p) for p in (QUEUED_ON_ZALO, WAITING_FOR_ZALO, LATER)] == [1, 1, 1]
    assert rig.zalo.sim.sent == []
