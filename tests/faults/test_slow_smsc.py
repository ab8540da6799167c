"""An SMSC slower than the daemon's response timeout, and one that never answers a submit.

The daemon runs as a subprocess with `smpp.response_timeout: 1` against the bundled
simulator. A slow answer must settle its message (no paid copy, none failed); a submit
that is never answered must still reach a final state, in bounded time.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from gateway.smpp.sim import Rule, SimConfig, SmscSimulator
from tests.support.burst import Burst
from tests.support.daemon import http_get

COUNT = 200
RESPONSE_TIMEOUT = 1.0


def with_settings(burst: Burst, smpp: str, retry: str = "") -> Burst:
    """The rig's configuration with a short response timeout (and more, if given)."""
    path: Path = burst.config
    text = path.read_text(encoding="utf-8")
    old = "  response_timeout: 2\n"
    assert old in text and "retry:\n" in text, "the rig's configuration changed"
    text = text.replace(old, f"  response_timeout: {RESPONSE_TIMEOUT:g}\n{smpp}")
    text = text.replace("retry:\n", f"retry:\n{retry}")
    path.write_text(text, encoding="utf-8")
    return burst


async def test_smsc_answering_after_the_timeout_gets_no_copies(broker, tmp_path):
    """Every submit_sm_resp comes 0.3 s after the daemon's 1 s timeout: each message is
    submitted once and delivered; before, each was sent again up to max_attempts times
    (one job became 6 accepted copies and still ended `failed`)."""
    config = SimConfig(receipt_delay=0.05, response_delay=RESPONSE_TIMEOUT + 0.3)
    async with SmscSimulator(config) as smsc:
        burst = with_settings(Burst(broker.port, smsc, tmp_path, COUNT), "  relink_after: 4\n")
        async with burst:
            await burst.publish()
            delivered = await burst.all_delivered(timeout=180)
            states = Counter(e["state"] for e in burst.watch.events)
            events = burst.log_events()
            _status, metrics = await http_get(burst.admin_port, "/metrics")

    assert burst.check(delivered) == 0, "no duplicate submits at the SMSC"
    assert smsc.stats.submits == COUNT
    assert states["failed"] == 0 and states["expired"] == 0
    assert events["smpp_late_response"] >= COUNT
    assert events["smpp_relink"] == 0
    late = re.search(r"^motcua_smpp_late_responses_total (\S+)$", metrics, re.M)
    assert late is not None and float(late.group(1)) >= COUNT, "operators see late answers"


async def test_submit_never_answered_reaches_a_final_state(broker, tmp_path):
    """One destination's submits are never answered, on a connection that stays up: the
    daemon retires the connection after relink_after, sends again (an attempt each time)
    and ends the message `failed`; the other messages are delivered meanwhile."""
    config = SimConfig(receipt_delay=0.05, rules=(Rule("84900000000", "no_response"),))
    async with SmscSimulator(config) as smsc:
        burst = with_settings(
            Burst(broker.port, smsc, tmp_path, 20), "  relink_after: 2\n", "  max_attempts: 3\n"
        )
        async with burst:
            await burst.publish()
            events = await burst.watch.wait_for(
                lambda ev: (
                    any(e["id"] == "job-0" and e["state"] == "failed" for e in ev)
                    and len({e["id"] for e in ev if e["state"] == "delivered"}) == 19
                ),
                timeout=60,
            )

    (failed,) = [e for e in events if e["id"] == "job-0" and e["state"] == "failed"]
    assert "retries exhausted (3)" in failed["reason"]
    assert "outcome unknown" in failed["reason"]
    silent = [r for r in smsc.records if r.destination == "84900000000"]
    assert len(silent) == 3, "sent once per attempt, once per retired connection"
    assert len(smsc.records) == 20 + 2
