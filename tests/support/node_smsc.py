"""An SMSC written with node-smpp (npm "smpp", pinned in package.json), run as a subprocess.

The point is a peer nobody on this project wrote: what it logs is what it read off the
wire, so a test can compare octets with what our session meant to send.

Needs Node.js. Without `node` on PATH the tests are skipped; CI installs it and runs
`npm ci --no-audit --no-fund` in tests/interop (done here too when node_modules is missing).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import IO, Any

import pytest

from gateway.smpp.receipt import Receipt
from gateway.smpp.session import Mo, Session, SessionConfig, Submit
from tests.support.wait import eventually

# smsc.js and its pinned node packages live with the interop tests.
HERE = Path(__file__).resolve().parent.parent / "interop"
SCRIPT = HERE / "smsc.js"
START_TIMEOUT = 20.0

_install_lock = threading.Lock()
_install_error: str | None = None
_installed = False


def ensure_node_modules(npm: str | None) -> None:
    """`npm ci` once per test run when the pinned packages are not installed yet."""
    global _install_error, _installed
    with _install_lock:
        if _installed or (HERE / "node_modules" / "smpp" / "package.json").is_file():
            _installed = True
            return
        if _install_error is None:
            if npm is None:
                _install_error = "npm is not on PATH; run `npm ci` in tests/interop"
            else:
                proc = subprocess.run(
                    [npm, "ci", "--no-audit", "--no-fund"],
                    cwd=HERE,
                    capture_output=True,
                    text=True,
                    timeout=300,
                    check=False,
                )
                if proc.returncode == 0:
                    _installed = True
                    return
                _install_error = f"`npm ci` in {HERE} failed:\n{proc.stdout}\n{proc.stderr}"
    pytest.fail(_install_error, pytrace=False)


class NodeSmsc:
    """A running `node smsc.js`: its address, what it logged, and a way to command it."""

    def __init__(self, node: str) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self._events: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stderr: list[str] = []
        self._listening: queue.Queue[dict[str, Any]] = queue.Queue()
        self._proc = subprocess.Popen(
            [node, str(SCRIPT), "0"],
            cwd=HERE,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        assert self._proc.stdout is not None and self._proc.stderr is not None
        self._threads = [
            threading.Thread(target=self._read_stdout, args=(self._proc.stdout,), daemon=True),
            threading.Thread(target=self._read_stderr, args=(self._proc.stderr,), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    # -- process -----------------------------------------------------------------------

    def _read_stdout(self, stream: IO[str]) -> None:
        for line in stream:
            line = line.strip()
            if not line:
                continue
            try:
                event = json.loads(line)
            except ValueError:
                event = {"event": "unparsed", "line": line}
            if not isinstance(event, dict):
                event = {"event": "unparsed", "line": line}
            with self._lock:
                self._events.append(event)
            if event.get("event") == "listening":
                self._listening.put(event)

    def _read_stderr(self, stream: IO[str]) -> None:
        for line in stream:
            with self._lock:
                self._stderr.append(line.rstrip("\n"))

    def wait_listening(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                event = self._listening.get(timeout=0.1)
            except queue.Empty:
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(
                        f"node smsc.js did not start (exit {self._proc.returncode}):\n"
                        + self.stderr_text(),
                        pytrace=False,
                    )
                continue
            self.port = int(event["port"])
            return

    def stop(self) -> None:
        proc = self._proc
        if proc.poll() is None:
            try:
                if proc.stdin is not None:
                    proc.stdin.close()  # smsc.js exits at the end of its input
                proc.wait(timeout=3)
            except (OSError, subprocess.TimeoutExpired):
                proc.terminate()
                try:
                    proc.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        for thread in self._threads:
            thread.join(timeout=2)

    def stderr_text(self) -> str:
        with self._lock:
            return "\n".join(self._stderr)

    # -- what a test uses ---------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Every event logged so far, oldest first; only those of `kind` when given."""
        with self._lock:
            return [dict(e) for e in self._events if kind is None or e.get("event") == kind]

    async def wait_for(
        self, kind: str, count: int = 1, timeout: float = 10
    ) -> list[dict[str, Any]]:
        """At least `count` events of `kind` (all of them, oldest first), or fail the test."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.events(kind)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                pytest.fail(
                    f"node SMSC: {len(found)} {kind!r} event(s) within {timeout}s, wanted"
                    f" {count}. Events: {self.events()}\nstderr: {self.stderr_text()}",
                    pytrace=False,
                )
            if not self.alive:
                pytest.fail(
                    f"node SMSC exited ({self._proc.returncode}) while waiting for {kind!r}:"
                    f"\n{self.stderr_text()}",
                    pytrace=False,
                )
            await asyncio.sleep(0.02)

    def send(self, cmd: dict[str, Any]) -> None:
        """One command to smsc.js (see its header): mo, enquire_link, unbind, close."""
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(cmd, ensure_ascii=False) + "\n")
        self._proc.stdin.flush()

    def errors(self) -> list[dict[str, Any]]:
        """Errors smsc.js caught. Socket errors (a peer resetting) are normal there."""
        return self.events("error")

    def faults(self) -> list[dict[str, Any]]:
        """Errors that mean smsc.js itself went wrong, not that a peer hung up on it."""
        return [e for e in self.errors() if not str(e.get("where", "")).startswith("session ")]


@contextmanager
def started() -> Iterator[NodeSmsc]:
    """A fresh node-smpp SMSC on an ephemeral port, stopped after; the test is skipped
    without Node.js, and fails if smsc.js reported errors of its own."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js (`node`) is not on PATH: the node-smpp tests need it")
    ensure_node_modules(shutil.which("npm"))
    smsc = NodeSmsc(node)
    try:
        smsc.wait_listening()
        yield smsc
    finally:
        smsc.stop()
    if faults := smsc.faults():
        pytest.fail(f"node SMSC reported errors: {faults}", pytrace=False)


# -- our session against it ---------------------------------------------------------

PHONE = "84905123456"
SHORTCODE = "8083"
BRANDNAME = "MotcuaSMS"
ESM_UDHI = 0x40


class Inbound:
    """What the session hands to on_deliver, in arrival order."""

    def __init__(self) -> None:
        self.items: list[Mo | Receipt] = []

    async def __call__(self, item: Mo | Receipt) -> None:
        self.items.append(item)

    def of(self, kind: type) -> list[Any]:
        return [item for item in self.items if isinstance(item, kind)]

    async def wait_for(self, kind: type, count: int = 1, timeout: float = 10) -> list[Any]:
        await eventually(lambda: len(self.of(kind)) >= count, timeout)
        return self.of(kind)


def config(smsc: NodeSmsc, **overrides: Any) -> SessionConfig:
    base = SessionConfig(
        host=smsc.host,
        port=smsc.port,
        system_id="motcua",
        password="secret",
        bind="transceiver",
        window=10,
        tps=0,
        enquire_link_interval=30.0,
        response_timeout=5.0,
        reconnect_min=0.1,
        reconnect_max=1.0,
    )
    return dataclasses.replace(base, **overrides)


@asynccontextmanager
async def bound(smsc: NodeSmsc, inbound: Inbound, **overrides: Any) -> AsyncIterator[Session]:
    async with Session(config(smsc, **overrides), inbound) as session:
        await session.wait_bound(timeout=5)
        yield session


def notice(short_message: bytes, *, data_coding: int = 0, udhi: bool = False) -> Submit:
    return Submit(
        source=BRANDNAME,
        destination=PHONE,
        short_message=short_message,
        data_coding=data_coding,
        source_ton=5,
        source_npi=0,
        dest_ton=1,
        dest_npi=1,
        esm_class=ESM_UDHI if udhi else 0,
        registered_delivery=1,
    )
