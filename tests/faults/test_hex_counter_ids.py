"""A carrier that numbers messages with a small hex counter and writes the same hex in
its receipts: ids such as "A" and "10" both read as 10, and every receipt still settles
its own message."""

from __future__ import annotations

from collections import Counter

from gateway.smpp.sim import SimConfig, SmscSimulator
from tests.support.burst import Burst

COUNT = 40  # ids 1..28 in hex: "A".."F" collide with "10".."15", "10".."19" with "16".."25"
TIMEOUT = 3  # smpp.receipt_timeout, seconds: a message whose receipt went elsewhere expires


async def test_carrier_counting_in_hex_from_one_has_every_receipt_settle_its_own_message(
    broker, tmp_path
):
    """All outstanding at once (receipts come 0.5 s after the submit), so each colliding
    pair has both messages waiting: every job is delivered, none expires, each sent once."""
    config = SimConfig(
        first_id=1,
        response_id_format="hex",
        receipt_id_format="hex",
        receipt_delay=0.5,
    )
    async with (
        SmscSimulator(config) as smsc,
        Burst(broker.port, smsc, tmp_path, COUNT, smpp=f"  receipt_timeout: {TIMEOUT}\n") as burst,
    ):
        await burst.publish()
        final = {ref: e["state"] for ref, e in (await burst.all_final()).items()}

    assert Counter(final.values()) == {"delivered": COUNT}
    assert {r.message_id for r in smsc.records} >= {"A", "10", "16"}
    assert smsc.stats.submits == COUNT
