"""The suite's own machinery: the one bounded wait, and which tests are `slow`."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.support.daemon import start_daemon
from tests.support.pair import faketime_env
from tests.support.slow import starts_a_daemon
from tests.support.wait import eventually

ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- eventually


async def test_eventually_returns_once_the_condition_holds():
    flag: list[bool] = []
    asyncio.get_running_loop().call_later(0.05, flag.append, True)

    await eventually(lambda: bool(flag), timeout=5)

    assert flag == [True]


async def test_eventually_awaits_a_condition_that_is_a_coroutine():
    calls = 0

    async def third_time() -> bool:
        nonlocal calls
        calls += 1
        return calls >= 3

    await eventually(third_time, timeout=5)

    assert calls == 3


async def test_eventually_fails_with_a_timeout_when_the_condition_never_holds():
    with pytest.raises(TimeoutError):
        await eventually(lambda: False, timeout=0.05)


# --------------------------------------------------------------------------- slow


async def _helper_that_starts_a_daemon() -> None:
    await start_daemon(ROOT / "no-such-config.yaml")


def _body_starting_a_daemon() -> object:
    return start_daemon


def _body_calling_a_helper_that_does() -> object:
    return _helper_that_starts_a_daemon


def _body_starting_nothing() -> object:
    return eventually


def test_a_test_that_starts_a_daemon_is_slow():
    assert starts_a_daemon([_body_starting_a_daemon])


def test_a_test_whose_helper_starts_a_daemon_is_slow():
    assert starts_a_daemon([_body_calling_a_helper_that_does])


def test_a_test_that_starts_no_daemon_is_not_slow():
    assert not starts_a_daemon([_body_starting_nothing])


def _collected(*args: str) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [line for line in proc.stdout.splitlines() if "::" in line]


@pytest.mark.slow
def test_the_fast_set_leaves_out_fault_bursts_daemons_and_hand_marked_tests():
    """`-m "not slow"` keeps the in-process tests of a module and drops its daemon ones."""
    fast = _collected(
        "-m",
        "not slow",
        "tests/faults",
        "tests/ops/test_operate.py",
        "tests/smpp/test_bind_backoff.py",
    )
    slow = _collected(
        "-m", "slow", "tests/faults", "tests/ops/test_operate.py", "tests/smpp/test_bind_backoff.py"
    )

    assert not [t for t in fast if t.startswith("tests/faults/")]
    assert "tests/ops/test_operate.py::test_report_command_prints_csv" in fast
    assert "tests/ops/test_operate.py::test_sigterm_with_messages_in_flight_loses_none" in slow
    assert "tests/ops/test_operate.py::test_healthz_is_200_while_bound_and_connected" in slow
    assert (
        "tests/smpp/test_bind_backoff.py::test_bind_dropped_at_once_meets_a_growing_backoff" in slow
    )
    assert set(fast).isdisjoint(slow)


@pytest.mark.slow
def test_a_misspelt_marker_is_an_error(tmp_path: Path):
    """Markers are strict: `@pytest.mark.slwo` fails the run instead of running the test
    in the fast set."""
    test = tmp_path / "test_typo.py"
    test.write_text("import pytest\n\n\n@pytest.mark.slwo\ndef test_x():\n    pass\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-c",
            str(ROOT / "pyproject.toml"),
            "--rootdir",
            str(tmp_path),
            str(test),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert proc.returncode != 0
    assert "'slwo' not found in `markers`" in proc.stdout + proc.stderr


# --------------------------------------------------------------------------- faketime


def _clock_under(env: dict[str, str]) -> float:
    """The wall clock a process started with `env` reads."""
    done = subprocess.run(
        [sys.executable, "-c", "import time; print(time.time())"],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    return float(done.stdout)


def test_processes_under_one_faketime_env_read_one_moved_clock_that_ticks_on():
    """Two daemons started a moment apart with the same environment agree on the time (an
    offset, not libfaketime's absolute form, which would start each at `at`)."""
    at = datetime(2027, 3, 10, 17, 29, 35, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    env = faketime_env(at)
    first = _clock_under(env)
    time.sleep(1.0)
    second = _clock_under(env)

    assert abs(first - at.timestamp()) < 30
    assert second - first >= 1.0
