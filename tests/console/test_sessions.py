"""Sessions over HTTP: each user's are bounded on their own, so one account's logins
never log anybody else out."""

from __future__ import annotations

from tests.support.console import STP_USER, client, log_in, running_console
from tests.support.slow_figures import PERIOD


async def test_one_users_repeated_logins_do_not_log_out_the_others(tmp_path, monkeypatch):
    # One agency account's script logging in again and again (no brake counts a
    # success) must not evict the supervisors' sessions; a cap of 3 keeps it short.
    monkeypatch.setattr("gateway.console.auth.MAX_SESSIONS", 3)
    async with running_console(tmp_path) as running, client(running.url) as supervisor:
        assert (await log_in(supervisor)).status == 303
        for _ in range(3):
            async with client(running.url) as script:
                assert (await log_in(script, user=STP_USER.name)).status == 303
        async with supervisor.get(f"/?{PERIOD}") as answer:
            status = answer.status
    assert status == 200, f"the supervisor's session: {status}"
