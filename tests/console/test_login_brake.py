"""The brake on guessing over HTTP: attempts counted before their check, per name at an
address, so one person's (or a guesser's) failures hold nobody else."""

from __future__ import annotations

import asyncio

from tests.support.console import PASSWORD, STP_USER, client, log_in, login_token, running_console


async def test_concurrent_wrong_passwords_are_braked_after_login_attempts(tmp_path):
    async with running_console(tmp_path, login_attempts=5) as running:

        async def guess(n: int) -> int:
            async with client(running.url) as session:
                token = await login_token(session)
                form = {"csrf": token, "next": "/", "user": STP_USER.name,
                        "password": f"not it {n}"}  # fmt: skip
                async with session.post("/dang-nhap", data=form, allow_redirects=False) as a:
                    return a.status

        statuses = await asyncio.gather(*(guess(n) for n in range(20)))
    checked = statuses.count(401)
    assert checked <= 5, f"{checked} passwords checked with login_attempts: 5"
    assert statuses.count(429) == 20 - checked


async def test_a_wrong_password_from_one_address_does_not_lock_out_the_other_users(tmp_path):
    # Behind the reverse proxy the README recommends, every user has the proxy's address.
    async with running_console(tmp_path, login_attempts=5) as running:
        for n in range(5):
            async with client(running.url) as someone:
                await log_in(someone, user="nobody", password=f"guess {n}")
        async with client(running.url) as supervisor:
            answer = await log_in(supervisor, password=PASSWORD)
    assert answer.status == 303, f"the supervisor's right password: {answer.status}"


async def test_a_braked_login_is_told_how_many_seconds_to_wait(tmp_path):
    console = running_console(tmp_path, login_attempts=1)
    async with console as running, client(running.url) as session:
        await log_in(session, password="sai mật khẩu")
        token = await login_token(session)
        form = {"csrf": token, "next": "/", "user": "giamsat", "password": PASSWORD}
        async with session.post("/dang-nhap", data=form, allow_redirects=False) as a:
            status, text = a.status, await a.text()
    assert status == 429 and "30 giây" in text


async def test_right_passwords_sent_at_once_all_log_in(tmp_path):
    # Twenty supervisors behind one proxy on one shared account, or a double click.
    async with running_console(tmp_path, login_attempts=5) as running:

        async def right() -> int:
            async with client(running.url) as session:
                return (await log_in(session, password=PASSWORD)).status

        statuses = await asyncio.gather(*(right() for _ in range(20)))
    assert statuses == [303] * 20
