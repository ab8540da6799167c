"""Receipts under a sloppy carrier: reused ids overtaking their submit_sm_resp, and
ACCEPTD/DELIVRD/UNDELIV for one id arriving before or after the response."""
from __future__ import annotations

import sqlite3

from tests.test_store_receipts import DAY, KEY, Clock, queue, store, clock, submit  # noqa: F401


def state_of(store_path, ref):
    with sqlite3.connect(store_path) as db:
        return db.execute("SELECT state FROM messages WHERE ref = ?", (ref,)).fetchone()[0]


async def test_receipt_for_a_reused_id_overtaking_the_new_submit_settles_the_new_message(
    store, clock, tmp_path
):
    """Day 0: job-old gets id 1234 and is delivered. Day 3 the carrier reuses 1234 for
    job-new, and its DELIVRD overtakes the submit_sm_resp (is recorded before the
    outcome). The receipt must wait as an early receipt and settle job-new; it must not
    be swallowed by job-old's long-final part."""
    await queue(store, clock, "job-old")
    await submit(store, clock, "job-old")
    await store.record_receipts([(KEY, "delivered", None)])
    assert state_of(tmp_path / "gateway.db", "job-old") == "delivered"

    clock.now += 3 * DAY
    await queue(store, clock, "job-new")
    await store.record_receipts([(KEY, "delivered", None)])  # before the outcome commits
    await submit(store, clock, "job-new")
    assert state_of(tmp_path / "gateway.db", "job-new") == "delivered"


async def _three_receipts(store, clock, tmp_path, ref, early, key):
    await queue(store, clock, ref)
    if not early:
        await submit(store, clock, ref, keys=key)
    for st, err in (("enroute", None), ("delivered", None), ("undeliverable", "receipt: UNDELIV")):
        await store.record_receipts([(key, st, err)])
    if early:
        await submit(store, clock, ref, keys=key)
    return state_of(tmp_path / "gateway.db", ref)


async def test_acceptd_delivrd_undeliv_give_one_answer_whether_early_or_not(store, clock, tmp_path):
    late = await _three_receipts(store, clock, tmp_path, "job-late", early=False, key=frozenset({"n:1"}))
    early = await _three_receipts(store, clock, tmp_path, "job-early", early=True, key=frozenset({"n:2"}))
    assert early == late, (early, late)


async def test_hex_counter_ids_each_receipt_settles_its_own_message(store, clock, tmp_path):
    """The carrier numbers messages with a hex counter and writes the same hex in the
    receipt. Id 0000000A (10) and id 00000010 (16, but all decimal digits, so also keyed
    n:10) are both outstanding. 0000000A's UNDELIV must fail job-a, not job-b."""
    from gateway.smpp.receipt import message_id_keys

    await queue(store, clock, "job-a")
    await submit(store, clock, "job-a", keys=message_id_keys("0000000A"))
    await queue(store, clock, "job-b")
    await submit(store, clock, "job-b", keys=message_id_keys("00000010"))
    await store.record_receipts([(message_id_keys("0000000A"), "undeliverable", "receipt: UNDELIV")])
    await store.record_receipts([(message_id_keys("00000010"), "delivered", None)])
    db = tmp_path / "gateway.db"
    assert (state_of(db, "job-a"), state_of(db, "job-b")) == ("undeliverable", "delivered")
