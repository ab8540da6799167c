"""A guesser cannot wipe the brake on a name by failing at many other names (past
MAX_TRACKED keys the brake forgot the key first counted, the guessed name's, so 10,000
junk names from the same address reset its brake)."""

from __future__ import annotations

from gateway.console.auth import MAX_TRACKED, LoginBrake, brake_key

ATTACKER = "203.0.113.7"


def test_failures_at_other_names_do_not_reset_the_brake_on_a_guessed_name():
    now = [0.0]
    brake = LoginBrake(attempts=5, window=900, clock=lambda: now[0])
    target = brake_key("giamsat", ATTACKER)
    for _ in range(5):
        brake.failed(target)
    assert brake.wait(target) > 0
    for n in range(MAX_TRACKED):
        brake.failed(brake_key(f"junk{n}", ATTACKER))
    assert brake.wait(target) > 0, "the guessed name may be tried again at once"
