"""The one back-off schedule every retry loop waits by (gateway.backoff)."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

import gateway
from gateway.backoff import Backoff

GATEWAY = Path(gateway.__file__).parent


def test_delays_double_from_the_first_up_to_the_cap():
    schedule = Backoff(0.5, 30.0, jitter=False)

    assert [schedule.delay(n) for n in range(8)] == [0.5, 1, 2, 4, 8, 16, 30, 30]


def test_jittered_delays_lie_in_the_upper_half_of_their_step():
    schedule = Backoff(1.0, 60.0)
    rng = random.Random(13)

    for failures in range(10):
        step = schedule.step(failures)
        draws = [schedule.delay(failures, rng) for _ in range(200)]
        assert all(step / 2 <= d <= step for d in draws), failures
        assert len(set(draws)) > 1  # jittered, not a fixed value


def test_a_count_of_failures_grown_for_weeks_stays_at_the_cap():
    assert Backoff(0.05, 5.0).step(10**9) == 5.0


def test_a_cap_below_the_first_delay_is_the_delay():
    assert Backoff(2.0, 1.0, jitter=False).delay(0) == 1.0


@pytest.mark.parametrize(("first", "cap"), [(0.0, 1.0), (-1.0, 1.0), (1.0, 0.0)])
def test_a_delay_that_is_not_positive_is_refused(first: float, cap: float):
    with pytest.raises(ValueError, match="must be positive"):
        Backoff(first, cap)


def test_no_retry_loop_computes_a_back_off_of_its_own():
    """Doubling a delay or drawing a jitter happens in gateway/backoff.py alone: the
    restart of a part, the store commit, the MQTT and SMPP reconnects and the resend of
    a message all wait by `Backoff`."""
    # Powers of two, jitter draws, a delay doubled in place.
    own = re.compile(
        r"\b2(\.0)?\s*\*\*|\buniform\(|(delay|pause|wait|backoff|interval)\w*\s*\*=?\s*2\b"
    )
    offenders = [
        f"{path.relative_to(GATEWAY)}:{number}: {line.strip()}"
        for path in sorted(GATEWAY.rglob("*.py"))
        if path.name != "backoff.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if own.search(line.split("#", 1)[0]) and not line.lstrip().startswith(('"', "'"))
    ]
    assert offenders == []
    users = {
        str(path.relative_to(GATEWAY))
        for path in GATEWAY.rglob("*.py")
        if "from gateway.backoff import Backoff" in path.read_text()
    }
    assert users >= {
        "ops/supervision.py",
        "store/batch.py",
        "mqtt/link.py",
        "smpp/session.py",
        "outbound/sender.py",
    }
