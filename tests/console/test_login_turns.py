"""The attempts at one name and address take turns (README: "each braked or checked once
the one before is counted"), also for an attempt arriving while the one before it still
waits its turn (a key's lock forgotten as its holder left while another still waited on
it gave the next arrival a fresh lock, checked beside the waiting one)."""

from __future__ import annotations

import asyncio

from gateway.console.auth import LoginBrake


async def test_an_attempt_arriving_while_another_waits_its_turn_waits_too():
    brake = LoginBrake(attempts=5, window=900)
    inside = most = 0

    async def attempt() -> None:
        nonlocal inside, most
        async with brake.turn("giamsat\x00127.0.0.1"):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.05)  # the password check (argon2 on a thread)
            inside -= 1

    first = asyncio.create_task(attempt())
    await asyncio.sleep(0.01)
    second = asyncio.create_task(attempt())  # waits for the first
    await asyncio.sleep(0.06)  # the first has left, the second is being checked
    third = asyncio.create_task(attempt())
    await asyncio.gather(first, second, third)
    assert most == 1, f"{most} attempts at one key checked at once"
