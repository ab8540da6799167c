"""The OA access token: refreshed from the rotating refresh token, kept durably, once
for all concurrent callers, against the simulator over real HTTP."""

from __future__ import annotations

import asyncio
import os
import stat
import time

import pytest
import structlog

from gateway.zalo import tokens
from gateway.zalo.errors import TokenRefused, TokenUnavailable, ZnsAction
from gateway.zalo.tokens import TokenKeeper, keep_refresh_token, read_refresh_token
from tests.support.broker import free_port


async def test_the_first_call_refreshes_and_returns_an_access_token(rig, session, clock):
    keeper = TokenKeeper(rig.settings(), session, clock)

    token = await keeper.access_token()

    assert token.startswith("sim-access-")
    assert rig.sim.refreshes == 1


async def test_a_token_still_valid_is_returned_without_a_refresh(rig, session, clock):
    keeper = TokenKeeper(rig.settings(), session, clock)
    first = await keeper.access_token()
    clock.now += 3600

    assert await keeper.access_token() == first
    assert rig.sim.refreshes == 1


async def test_a_token_expiring_within_refresh_before_is_refreshed(rig, session, clock):
    rig.sim.token_lifetime = 1000
    keeper = TokenKeeper(rig.settings(refresh_before=300), session, clock)
    first = await keeper.access_token()
    clock.now += 699

    assert await keeper.access_token() == first
    clock.now += 2  # 299 s left: within refresh_before
    assert await keeper.access_token() != first
    assert rig.sim.refreshes == 2


async def test_a_short_lived_token_is_refreshed_half_way_not_at_every_call(rig, session, clock):
    rig.sim.token_lifetime = 10  # shorter than refresh_before: 300
    keeper = TokenKeeper(rig.settings(refresh_before=300), session, clock)
    first = await keeper.access_token()
    clock.now += 4

    assert await keeper.access_token() == first
    clock.now += 2
    assert await keeper.access_token() != first
    assert rig.sim.refreshes == 2


async def test_the_rotated_refresh_token_is_kept_in_the_file(rig, session, clock):
    first = read_refresh_token(str(rig.token_file))
    keeper = TokenKeeper(rig.settings(), session, clock)

    await keeper.access_token()

    kept = read_refresh_token(str(rig.token_file))
    assert kept != first
    assert kept == rig.sim.refresh_token


async def test_the_token_file_is_readable_by_its_owner_only(rig, session, clock):
    rig.token_file.chmod(0o644)

    await TokenKeeper(rig.settings(), session, clock).access_token()

    assert stat.S_IMODE(os.stat(rig.token_file).st_mode) == 0o600


async def test_a_new_keeper_refreshes_from_the_rotated_token_after_a_restart(rig, session, clock):
    await TokenKeeper(rig.settings(), session, clock).access_token()

    restarted = TokenKeeper(rig.settings(), session, clock)
    token = await restarted.access_token()

    assert token.startswith("sim-access-")
    assert (rig.sim.refreshes, rig.sim.refused_refreshes) == (2, 0)


async def test_a_spent_refresh_token_is_refused_by_zalo(rig, session, clock):
    """The file put back to the first (spent) token: Zalo refuses it, STOP."""
    spent = read_refresh_token(str(rig.token_file))
    await TokenKeeper(rig.settings(), session, clock).access_token()
    rig.token_file.write_text(spent, encoding="utf-8")

    with pytest.raises(TokenRefused) as info:
        await TokenKeeper(rig.settings(), session, clock).access_token()

    assert info.value.code == -14006
    assert info.value.action is ZnsAction.STOP
    assert rig.sim.refused_refreshes == 1


async def test_a_wrong_app_secret_is_a_refused_refresh(rig, session, clock):
    keeper = TokenKeeper(rig.settings(secret_key="not-the-secret"), session, clock)

    with pytest.raises(TokenRefused):
        await keeper.access_token()
    assert read_refresh_token(str(rig.token_file)) == rig.sim.refresh_token  # not spent


async def test_concurrent_callers_share_one_refresh(rig, session, clock):
    keeper = TokenKeeper(rig.settings(), session, clock)

    tokens = await asyncio.gather(*(keeper.access_token() for _ in range(20)))

    assert len(set(tokens)) == 1
    assert (rig.sim.refreshes, rig.sim.refused_refreshes) == (1, 0)


async def test_concurrent_callers_share_one_failed_refresh(rig, session, clock):
    await rig.sim.down()
    keeper = TokenKeeper(rig.settings(), session, clock)

    results = await asyncio.gather(
        *(keeper.access_token() for _ in range(5)), return_exceptions=True
    )

    assert all(isinstance(r, TokenUnavailable) for r in results)
    assert rig.sim.refused_refreshes == 0


async def test_invalidate_forces_the_next_call_to_refresh(rig, session, clock):
    keeper = TokenKeeper(rig.settings(), session, clock)
    first = await keeper.access_token()

    keeper.invalidate()

    assert await keeper.access_token() != first
    assert rig.sim.refreshes == 2


async def test_invalidating_a_token_already_replaced_changes_nothing(rig, session, clock):
    keeper = TokenKeeper(rig.settings(), session, clock)
    stale = await keeper.access_token()
    keeper.invalidate(stale)
    current = await keeper.access_token()

    keeper.invalidate(stale)  # a second caller that saw the same stale token

    assert await keeper.access_token() == current
    assert rig.sim.refreshes == 2


async def test_zalo_down_is_a_retry_error_and_the_refresh_token_is_kept(rig, session, clock):
    await rig.sim.down()
    before = read_refresh_token(str(rig.token_file))

    with pytest.raises(TokenUnavailable) as info:
        await TokenKeeper(rig.settings(), session, clock).access_token()

    assert (info.value.code, info.value.action) == (503, ZnsAction.RETRY)
    assert read_refresh_token(str(rig.token_file)) == before


async def test_an_unreachable_oauth_server_is_a_retry_error(rig, session, clock):
    settings = rig.settings(oauth_url=f"http://127.0.0.1:{free_port()}/v4/oa/access_token")

    with pytest.raises(TokenUnavailable) as info:
        await TokenKeeper(settings, session, clock).access_token()

    assert (info.value.code, info.value.action) == (0, ZnsAction.RETRY)


async def test_an_empty_token_file_stops_zalo(rig, session, clock):
    rig.token_file.write_text("\n", encoding="utf-8")

    with pytest.raises(TokenRefused):
        await TokenKeeper(rig.settings(), session, clock).access_token()
    assert rig.sim.refreshes == 0


async def test_no_token_reaches_the_log(rig, session, clock):
    first = read_refresh_token(str(rig.token_file))
    with structlog.testing.capture_logs() as logs:
        keeper = TokenKeeper(rig.settings(), session, clock)
        access = await keeper.access_token()
        rig.token_file.write_text(first, encoding="utf-8")
        keeper.invalidate()
        with pytest.raises(TokenRefused):
            await keeper.access_token()

    shown = repr(logs)
    assert logs and all(t not in shown for t in (first, access, rig.sim.refresh_token))


def test_keeping_a_token_replaces_the_file_whole(tmp_path):
    path = tmp_path / "token"
    path.write_text("old\n", encoding="utf-8")

    keep_refresh_token(str(path), "new")

    assert path.read_text(encoding="utf-8") == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["token"]  # no temporary file left


async def test_a_rotated_refresh_token_not_written_once_is_kept_and_written_before_the_next_refresh(
    rig, session, monkeypatch
):
    real_keep = tokens.keep_refresh_token
    calls = {"n": 0}

    def disk_full_once(path: str, token: str) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError(28, "No space left on device")
        real_keep(path, token)

    monkeypatch.setattr(tokens, "keep_refresh_token", disk_full_once)
    keeper = TokenKeeper(rig.settings(), session, time.monotonic)

    with pytest.raises(TokenUnavailable):  # a passing failure: tried again, not stopped
        await keeper.access_token()
    token = await keeper.access_token()

    assert token
    assert read_refresh_token(str(rig.token_file)) == rig.sim.refresh_token
    assert rig.sim.refused_refreshes == 0
