"""The two SMSCs a benchmark runs against, each in a process of its own.

`bundled` is our simulator (`motcua-sms smsc-sim`, receipts at once); `node` is the
independent node-smpp SMSC of the interop tests (tests/interop/smsc.js, receipts after
50 ms), written by nobody on this project. The bundled one is Python and spends the same
two cores as what is measured, which compresses any ratio; node-smpp spends far less per
message. Both report how many submit_sm they answered and the CPU their process used, so
a result can show the SMSC was not what limited the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import urllib.request
from pathlib import Path
from typing import Any

from common import start_simulator

from tests.support.broker import free_port

REPO = Path(__file__).resolve().parents[1]
NODE_DIR = REPO / "tests" / "interop"
KINDS = ("bundled", "node")


def _stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (field 3 on), as written."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far, from /proc (Linux)."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu_seconds(pid: int, tid: int | None = None) -> float:
    """User + system CPU of one thread of a process, by default its first (a Python
    daemon's event loop: the process's less this is its other threads', the store's)."""
    task = Path(f"/proc/{pid}/task/{pid if tid is None else tid}/stat")
    fields = task.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU of `root` and every process under it, those gone included: a
    server's backends and workers come and go, and the CPU of one that ended is in its
    parent's cutime/cstime once reaped. So: each living process's own CPU, plus the CPU of
    the children each has reaped; every CPU second is counted once."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                children.setdefault(int(_stat(int(entry.name))[1]), []).append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue  # ended meanwhile
    ticks, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            fields = _stat(pid)
        except OSError:
            continue
        ticks += sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
        todo += children.get(pid, [])
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine has spent busy so far (not idle, not waiting
    for I/O), from /proc/stat: what ran beside a benchmark is this less its own processes."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    # user nice system idle iowait irq softirq steal (guest time is in user already)
    busy = sum(values[:8]) - values[3] - values[4]
    return busy / os.sysconf("SC_CLK_TCK")


class Smsc:
    """A running SMSC: `port`, `submits()`, `cpu()`; `stop()` ends it."""

    def __init__(self, kind: str, proc: asyncio.subprocess.Process, port: int) -> None:
        self.kind = kind
        self.proc = proc
        self.port = port
        self.control_port = 0
        self._submits = 0
        self._reader: asyncio.Task[None] | None = None

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)

    async def submits(self) -> int:
        if self.kind == "bundled":
            return int((await asyncio.to_thread(_stats, self.control_port))["submits"])
        return self._submits

    async def stop(self) -> None:
        if self.proc.returncode is None:
            if self.kind == "node" and self.proc.stdin is not None:
                self.proc.stdin.close()  # end of stdin ends smsc.js
            self.proc.terminate()
            with contextlib.suppress(ProcessLookupError):
                await asyncio.wait_for(self.proc.wait(), 10)
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)

    async def _count(self) -> None:
        """Read smsc.js's event lines (it would block on a full pipe) and count submits."""
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            if line.startswith(b'{"event":"submit_sm"'):
                self._submits += 1


def _stats(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=5) as answer:
        return json.loads(answer.read())


async def start_smsc(kind: str, **popen: Any) -> Smsc:
    """Start the SMSC of `kind` on a free port; returns once it listens."""
    if kind == "bundled":
        port, control = free_port(), free_port()
        proc = await start_simulator(port, control, **popen)
        smsc = Smsc(kind, proc, port)
        smsc.control_port = control
        await _wait_port(port, proc)
        return smsc
    if kind != "node":
        raise ValueError(f"unknown SMSC {kind!r}: one of {KINDS}")
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / "smpp").is_dir():
        raise SystemExit("node-smpp SMSC: needs node and `npm ci` in tests/interop")
    proc = await asyncio.create_subprocess_exec(
        node, str(NODE_DIR / "smsc.js"), "0", cwd=NODE_DIR,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    assert proc.stdout is not None
    first = json.loads(await asyncio.wait_for(proc.stdout.readline(), 20))
    if first.get("event") != "listening":
        raise RuntimeError(f"smsc.js said {first} first")
    smsc = Smsc(kind, proc, int(first["port"]))
    smsc._reader = asyncio.create_task(smsc._count())
    return smsc


async def _wait_port(port: int, proc: asyncio.subprocess.Process) -> None:
    for _ in range(400):
        if proc.returncode is not None:
            raise RuntimeError(f"the SMSC exited with {proc.returncode}")
        try:
            _r, w = await asyncio.open_connection("127.0.0.1", port)
            w.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")
