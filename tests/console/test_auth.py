"""Password hashes, sessions that end, and the brake on guessing (gateway/console/auth.py)."""

from __future__ import annotations

from gateway.console.auth import (
    MAX_SESSIONS,
    LoginBrake,
    Sessions,
    check_password,
    hash_password,
)
from gateway.settings.console import ConsoleUser
from tests.support.clock import NOON, Clock

PASSWORD = "mật khẩu của chị An"
USER = ConsoleUser(name="an", role="supervisor", password_hash=hash_password(PASSWORD))
USERS = {"an": USER}


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


def test_sessions_held_are_bounded_the_oldest_going_first():
    sessions = Sessions(lifetime=600, clock=Clock(NOON))
    first = sessions.start(USER)
    for _ in range(MAX_SESSIONS):
        last = sessions.start(USER)

    assert len(sessions) == MAX_SESSIONS
    assert sessions.find(first.id, USERS) is None
    assert sessions.find(last.id, USERS) == last


def test_the_brake_holds_a_key_after_its_attempts_until_the_window_passes():
    clock = Clock(1000.0)
    brake = LoginBrake(attempts=3, window=900, clock=clock)
    for _ in range(3):
        assert brake.wait("user:an") == 0
        brake.failed("user:an")

    assert brake.wait("user:an") == 900
    clock.now += 900
    assert brake.wait("user:an") == 0


def test_the_brake_holds_every_login_that_shares_a_braked_key():
    brake = LoginBrake(attempts=2, window=900, clock=Clock(0.0))
    brake.failed("user:an", "peer:10.0.0.1")
    brake.failed("user:binh", "peer:10.0.0.1")

    assert brake.wait("user:chi", "peer:10.0.0.1") > 0
    assert brake.wait("user:chi", "peer:10.0.0.2") == 0


def test_a_login_that_works_clears_its_count():
    brake = LoginBrake(attempts=2, window=900, clock=Clock(0.0))
    brake.failed("user:an")
    brake.succeeded("user:an")
    brake.failed("user:an")

    assert brake.wait("user:an") == 0
