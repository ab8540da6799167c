"""Which tests are `slow`, decided from what they run, so that a new test is marked too.

`python -m pytest -m "not slow"` is the fast set, for the edit-test loop: unit tests and
tests against the in-process simulator and the shared broker. A test is slow when

- it lives in a directory of slow tests: tests/faults (fault bursts against a daemon),
  tests/interop (a node-smpp SMSC in Node.js), tests/e2e (the whole gateway and a broker);
- it uses a fixture that starts a process of its own (SLOW_FIXTURES);
- it, one of its fixtures, or a test helper either of them calls, starts a daemon with one
  of the rigs in DAEMON_RIGS (followed through the test code, not into the libraries);
- or it is marked `@pytest.mark.slow` by hand: anything else that takes over a second.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from types import CodeType, FunctionType
from typing import Any

import pytest

from gateway.app import Gateway
from tests.support.burst import Burst
from tests.support.daemon import run_refused, running_gateway, start_daemon
from tests.support.scripted_daemon import ScriptedDaemon

TESTS = Path(__file__).resolve().parent.parent
SLOW_DIRS = frozenset({"faults", "interop", "e2e"})
# A mosquitto of the test's own (started, killed, restarted); a Node.js SMSC.
SLOW_FIXTURES = frozenset({"fresh_broker", "node_smsc"})
# The daemon in-process (Gateway, running_gateway) or as a subprocess (the rest).
DAEMON_RIGS: tuple[object, ...] = (
    Gateway,
    running_gateway,
    start_daemon,
    run_refused,
    Burst,
    ScriptedDaemon,
)


def _code_names(code: CodeType) -> Iterator[str]:
    """The global names `code` and the functions nested in it refer to."""
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from _code_names(const)


def _test_code(obj: Any) -> FunctionType | None:
    """`obj` as a plain function of the test code (not tests/support, not a library)."""
    func = inspect.unwrap(obj) if callable(obj) else None
    func = getattr(func, "__func__", func)  # a bound method
    if not isinstance(func, FunctionType):
        return None
    module = func.__module__ or ""
    if not module.startswith("tests.") or module.startswith("tests.support."):
        return None
    return func


def starts_a_daemon(roots: list[Callable[..., Any]]) -> bool:
    """Whether any of `roots`, or test code they name, refers to a daemon rig."""
    seen: set[FunctionType] = set()
    todo = [f for f in map(_test_code, roots) if f is not None]
    while todo:
        func = todo.pop()
        if func in seen:
            continue
        seen.add(func)
        for name in _code_names(func.__code__):
            value = func.__globals__.get(name)
            if any(value is rig for rig in DAEMON_RIGS):
                return True
            if (helper := _test_code(value)) is not None:
                todo.append(helper)
    return False


def is_slow(item: pytest.Item) -> bool:
    """Whether `item` belongs outside the fast set (see the module's docstring)."""
    if item.get_closest_marker("slow") is not None:
        return True
    parts = item.path.resolve().relative_to(TESTS).parts
    if parts and parts[0] in SLOW_DIRS:
        return True
    fixtures = set(getattr(item, "fixturenames", ()))
    if fixtures & SLOW_FIXTURES:
        return True
    if not isinstance(item, pytest.Function):
        return False
    roots: list[Callable[..., Any]] = [item.function]
    module = item.module
    roots += [getattr(module, name) for name in fixtures if callable(getattr(module, name, None))]
    return starts_a_daemon(roots)


def mark_slow(items: list[pytest.Item]) -> None:
    """Add the `slow` marker to every slow item (pytest_collection_modifyitems)."""
    for item in items:
        if is_slow(item) and item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.slow)
