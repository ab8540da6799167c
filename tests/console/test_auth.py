"""Password hashes, sessions that end, and the brake on guessing (gateway/console/auth.py)."""

from __future__ import annotations

import asyncio

from gateway.console.auth import (
    MAX_SESSIONS,
    LoginBrake,
    Sessions,
    brake_key,
    check_password,
    hash_password,
)
from gateway.settings.console import ConsoleUser
from tests.support.clock import NOON, Clock

PASSWORD = "mật khẩu của chị An"
USER = ConsoleUser(name="an", role="supervisor", password_hash=hash_password(PASSWORD))
USERS = {"an": USER}
HASH = USER.password_hash


def test_a_hash_is_argon2id_and_never_holds_the_password():
    stored = hash_password(PASSWORD)

    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert hash_password(PASSWORD) != stored  # salted


async def test_the_right_password_is_accepted():
    assert await check_password(USER, PASSWORD)


async def test_a_wrong_password_is_refused():
    assert not await check_password(USER, PASSWORD + "x")


async def test_an_unknown_user_is_refused_whatever_the_password():
    assert not await check_password(None, PASSWORD)


def test_a_session_is_found_by_its_id_until_its_lifetime_ends():
    clock = Clock(NOON)
    sessions = Sessions(lifetime=600, clock=clock)
    session = sessions.start(USER)

    clock.now = NOON + 599
    assert sessions.find(session.id, USERS) == session
    clock.now = NOON + 600
    assert sessions.find(session.id, USERS) is None


def test_an_id_the_process_did_not_give_finds_no_session():
    sessions = Sessions(lifetime=600, clock=Clock(NOON))
    sessions.start(USER)

    assert sessions.find("forged-" + "A" * 43, USERS) is None
    assert sessions.find(None, USERS) is None


def test_a_session_ends_at_logout():
    sessions = Sessions(lifetime=600, clock=Clock(NOON))
    session = sessions.start(USER)

    sessions.end(session.id)

    assert sessions.find(session.id, USERS) is None


def test_a_session_ends_when_its_user_is_gone_from_the_configuration():
    sessions = Sessions(lifetime=600, clock=Clock(NOON))
    session = sessions.start(USER)

    assert sessions.find(session.id, {}) is None


def test_each_session_has_its_own_id_and_csrf_token():
    sessions = Sessions(lifetime=600, clock=Clock(NOON))
    first, second = sessions.start(USER), sessions.start(USER)

    assert len({first.id, second.id, first.csrf, second.csrf}) == 4
    assert len(first.id) >= 43  # 256 bits, URL-safe base64


def test_a_users_sessions_are_bounded_that_users_oldest_going_first():
    sessions = Sessions(lifetime=600, clock=Clock(NOON))
    first = sessions.start(USER)
    for _ in range(MAX_SESSIONS):
        last = sessions.start(USER)

    assert len(sessions) == MAX_SESSIONS
    assert sessions.find(first.id, USERS) is None
    assert sessions.find(last.id, USERS) == last


def test_one_users_logins_never_end_another_users_session():
    other = ConsoleUser(name="binh", role="agency", agency="STP", password_hash=HASH)
    users = {**USERS, "binh": other}
    sessions = Sessions(lifetime=600, clock=Clock(NOON))
    kept = sessions.start(other)
    for _ in range(3 * MAX_SESSIONS):
        sessions.start(USER)

    assert sessions.find(kept.id, users) == kept


def test_the_brake_lets_the_allowed_attempts_through_then_waits_after_the_last():
    clock = Clock(1000.0)
    brake = LoginBrake(attempts=3, window=900, clock=clock)
    key = brake_key("an", "10.0.0.1")
    for _ in range(3):
        assert brake.wait(key) == 0
        brake.failed(key)

    assert brake.wait(key) == LoginBrake.FIRST_WAIT
    clock.now += LoginBrake.FIRST_WAIT
    assert brake.wait(key) == 0


def _waits(brake: LoginBrake, clock: Clock, tries: int) -> list[float]:
    """The wait after each of `tries` failures, each tried as soon as it may."""
    key = brake_key("an", "10.0.0.1")
    waits = []
    for _ in range(tries):
        assert brake.wait(key) == 0
        brake.failed(key)
        waits.append(brake.wait(key))
        clock.now += waits[-1]
    return waits


def test_the_brakes_wait_doubles_with_each_failure_past_the_limit():
    clock = Clock(1000.0)

    assert _waits(LoginBrake(1, 1000, clock), clock, 6) == [30, 60, 120, 240, 480, 960]


def test_the_brakes_wait_is_never_longer_than_the_window():
    clock = Clock(1000.0)

    assert _waits(LoginBrake(1, 100, clock), clock, 3) == [30, 60, 100]


async def test_attempts_at_one_key_take_turns_and_other_keys_do_not_wait():
    brake = LoginBrake(attempts=2, window=900, clock=Clock(0.0))
    key = brake_key("an", "10.0.0.1")
    entered: list[str] = []

    async def attempt(name: str, at: str) -> None:
        async with brake.turn(at):
            entered.append(name)

    async with brake.turn(key):  # an attempt being checked
        waiting = asyncio.create_task(attempt("same key", key))
        await attempt("other key", brake_key("an", "10.0.0.2"))
        await asyncio.sleep(0)
        assert entered == ["other key"]  # the same key's waits for this one
    await waiting

    assert entered == ["other key", "same key"]


def test_a_braked_name_may_still_log_in_from_another_address():
    brake = LoginBrake(attempts=2, window=900, clock=Clock(0.0))
    for _ in range(3):
        brake.failed(brake_key("an", "10.0.0.1"))

    assert brake.wait(brake_key("an", "10.0.0.1")) > 0
    assert brake.wait(brake_key("an", "10.0.0.2")) == 0


def test_failures_of_one_name_do_not_brake_another_name_at_the_same_address():
    brake = LoginBrake(attempts=2, window=900, clock=Clock(0.0))
    for _ in range(3):
        brake.failed(brake_key("nobody", "10.0.0.1"))

    assert brake.wait(brake_key("an", "10.0.0.1")) == 0


def test_the_brake_key_is_the_name_however_it_is_cased_or_spaced():
    assert brake_key(" An ", "10.0.0.1") == brake_key("an", "10.0.0.1")


def test_a_login_that_works_clears_its_count():
    brake = LoginBrake(attempts=2, window=900, clock=Clock(0.0))
    key = brake_key("an", "10.0.0.1")
    brake.failed(key)
    brake.succeeded(key)
    brake.failed(key)

    assert brake.wait(key) == 0
