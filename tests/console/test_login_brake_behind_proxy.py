"""Behind a reverse proxy (`console.trusted_proxies`), the login brake tells apart the
people behind it by X-Forwarded-For: a guesser at a supervisor's name does not hold the
supervisor out. From a peer that is not a trusted proxy the header is ignored, so nobody
escapes the brake by writing it."""

from __future__ import annotations

from tests.support.console import PASSWORD, client, log_in, running_console

GUESSER, SUPERVISOR = "203.0.113.7", "198.51.100.20"


async def guesses(url: str, forwarded_for: str, count: int) -> None:
    for n in range(count):
        async with client(url, headers={"X-Forwarded-For": forwarded_for}) as guesser:
            await log_in(guesser, password=f"guess {n}")


async def test_a_guesser_behind_the_proxy_does_not_hold_the_supervisor_out(tmp_path):
    console = running_console(tmp_path, login_attempts=5, trusted_proxies=("127.0.0.1",))
    async with console as running:
        await guesses(running.url, GUESSER, 6)
        async with client(running.url, headers={"X-Forwarded-For": GUESSER}) as guesser:
            braked = await log_in(guesser, password=PASSWORD)
        async with client(running.url, headers={"X-Forwarded-For": SUPERVISOR}) as supervisor:
            answer = await log_in(supervisor, password=PASSWORD)
    assert (braked.status, answer.status) == (429, 303)


async def test_x_forwarded_for_from_a_peer_that_is_no_trusted_proxy_is_ignored(tmp_path):
    async with running_console(tmp_path, login_attempts=5) as running:
        await guesses(running.url, GUESSER, 6)
        async with client(running.url, headers={"X-Forwarded-For": SUPERVISOR}) as same_peer:
            answer = await log_in(same_peer, password=PASSWORD)
    assert answer.status == 429
