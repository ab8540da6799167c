"""The whole gateway against a real mosquitto and the bundled SMSC simulator."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiomqtt

from gateway.app import serve
from gateway.settings.config import Config, MqttConfig, ScheduleConfig, SmppConfig, StoreConfig
from gateway.settings.config import default_config as embedded_defaults
from gateway.smpp.sim import SmscSimulator
from tests.support.broker import free_port


def gateway_config(
    *, broker_port: int, smsc_port: int, db: Path, client_id: str, **smpp: Any
) -> Config:
    base = embedded_defaults()
    return dataclasses.replace(
        base,
        smpp=dataclasses.replace(
            SmppConfig(),
            host="127.0.0.1",
            port=smsc_port,
            password="secret",
            tps=0,
            response_timeout=2.0,
            reconnect_min=0.05,
            reconnect_max=0.5,
            **smpp,
        ),
        mqtt=dataclasses.replace(MqttConfig(), port=broker_port, client_id=client_id),
        store=StoreConfig(path=str(db)),
        schedule=dataclasses.replace(ScheduleConfig(), quiet_hours=None),
        retry=dataclasses.replace(base.retry, base_delay=0.05, max_delay=0.2),
        # A port of its own: the default (9108) may be held by a daemon beside the run.
        admin=dataclasses.replace(base.admin, port=free_port()),
    )


class StatusWatch:
    """Subscribes to every agency's status topic and keeps what arrives."""

    def __init__(self, broker_port: int, prefix: str = "motcua") -> None:
        self._port = broker_port
        self._prefix = prefix
        self.events: list[dict[str, Any]] = []
        self.topics: list[str] = []
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def __aenter__(self) -> StatusWatch:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self._ready.wait(), 10)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        async with aiomqtt.Client("127.0.0.1", self._port) as client:
            await client.subscribe(f"{self._prefix}/+/status", qos=1)
            self._ready.set()
            async for message in client.messages:
                self.topics.append(str(message.topic))
                self.events.append(json.loads(message.payload))
                self._changed.set()

    async def wait_for(
        self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        async with asyncio.timeout(timeout):
            while not predicate(self.events):
                self._changed.clear()
                await self._changed.wait()
        return self.events

    def states(self, ref: str) -> list[str]:
        return [e["state"] for e in self.events if e["id"] == ref]


async def publish(broker_port: int, items: list[tuple[str, Any]]) -> None:
    """Publish (topic, payload) pairs at QoS 1; dict payloads go as JSON."""
    async with aiomqtt.Client("127.0.0.1", broker_port) as client:
        for topic, payload in items:
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            await client.publish(topic, data, qos=1)


@contextlib.asynccontextmanager
async def running_gateway(config: Config) -> AsyncIterator[None]:
    stop = asyncio.Event()
    ready = asyncio.Event()
    task = asyncio.create_task(serve(config, stop, on_ready=ready.set))
    try:
        await asyncio.wait_for(ready.wait(), 10)
        await asyncio.sleep(0.2)  # let the MQTT subscription settle
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


def dossier_event(
    n: int, *, status: str = "result_ready", agency: str = "SCT", **over: Any
) -> dict[str, Any]:
    event = {
        "event_id": f"{agency}-{n}-{status}",
        "receipt_no": f"01017{n:05d}",
        "agency": agency,
        "procedure": "Cấp Giấy chứng nhận đủ điều kiện kinh doanh hóa chất",
        "procedure_code": "2.000123",
        "phone": "0905 123 456",
        "step": "Trả kết quả",
        "status": status,
        "due_date": "2026-11-25",
        "same_day": False,
        "occurred_at": "2026-11-22T10:00:00+07:00",
    }
    event.update(over)
    return event


DAEMON_LOGS = Path(tempfile.gettempdir()) / f"motcua-test-logs-{os.getpid()}"


def write_daemon_config(
    path: Path,
    *,
    broker_port: int,
    smsc_port: int,
    db: Path | str,
    window: int = 10,
    agencies: str = "  SCT:\n    name: Sở Công Thương\n",
    admin_port: int | None = None,
    mqtt_extra: str = "",
    smpp: str = "",
    sections: str = "",
    store_extra: str = "",
) -> None:
    """A configuration file for a daemon run as a subprocess, as systemd would run it.
    `mqtt_extra` is more of the mqtt section (indented lines: TLS, a login); `smpp` adds
    lines to its smpp section (such as `receipt_timeout: 2`); `sections` adds whole
    top-level sections (a `zalo:` section, say). `db` is an SQLite file, or a PostgreSQL
    url (`store.url`; its password, if any, in `store_extra` or the environment)."""
    admin = f"admin:\n  port: {admin_port}\n" if admin_port else "admin:\n  enabled: false\n"
    path.write_text(
        f"""
smpp:
  host: 127.0.0.1
  port: {smsc_port}
  password: secret
  window: {window}
  tps: 0
  response_timeout: 2
  reconnect_min: 0.05
  reconnect_max: 0.5
{smpp}mqtt:
  port: {broker_port}
  client_id: daemon-{path.parent.name}
{mqtt_extra}store:
  {"url" if str(db).startswith("postgresql://") else "path"}: {db}
{store_extra}
schedule:
  quiet_hours: "off"
retry:
  base_delay: 0.1
  max_delay: 0.5
{admin}{sections}agencies:
{agencies}""",
        encoding="utf-8",
    )


def log_events(config: Path) -> Counter[str]:
    """How often each event name appears in the JSON logs of the daemons run with
    `config` so far (every start of it: `start_daemon` logs each to its own file)."""
    events: Counter[str] = Counter()
    for path in DAEMON_LOGS.glob(f"{config.parent.name}-*.log"):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            with contextlib.suppress(ValueError, AttributeError):
                events[json.loads(line).get("event", "")] += 1
    return events


async def http_get(port: int, path: str) -> tuple[int, str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    head, _, body = data.decode().partition("\r\n\r\n")
    return int(head.split()[1]), body


async def start_daemon(
    config: Path, *, env: dict[str, str] | None = None
) -> asyncio.subprocess.Process:
    """`motcua-sms run -c config`; its JSON logs go to DAEMON_LOGS, which the session's
    personal-data check reads at the end of the run."""
    DAEMON_LOGS.mkdir(exist_ok=True)
    log = (DAEMON_LOGS / f"{config.parent.name}-{time.monotonic_ns()}.log").open("wb")
    with log:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway.cli", "run", "-c", str(config),
            stdout=asyncio.subprocess.DEVNULL, stderr=log,
            env={**os.environ, "MOTCUA_SMS_LOG_FORMAT": "json", **(env or {})},
        )  # fmt: skip


async def stop_daemon(daemon: asyncio.subprocess.Process, timeout: float = 30) -> int:
    """SIGTERM, as systemd stops it, and its exit code; a daemon that does not stop within
    `timeout` is killed and the test fails (rather than waits for ever)."""
    if daemon.returncode is None:
        daemon.terminate()
        try:
            async with asyncio.timeout(timeout):
                await daemon.wait()
        except TimeoutError:
            daemon.kill()
            await daemon.wait()
            raise AssertionError(f"the daemon ignored SIGTERM for {timeout:g} s") from None
    assert daemon.returncode is not None
    return daemon.returncode


async def run_refused(
    config: Path, timeout: float = 30, command: tuple[str, ...] = ("run",)
) -> tuple[int, list[str]]:
    """`motcua-sms <command> -c config`, expected to refuse at once: its exit status and
    the lines it wrote on stderr. One that keeps running is killed and the test fails."""
    daemon = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli", *command, "-c", str(config),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "MOTCUA_SMS_LOG_FORMAT": "json"},
    )  # fmt: skip
    try:
        async with asyncio.timeout(timeout):
            _, err = await daemon.communicate()
    except TimeoutError:
        daemon.kill()
        await daemon.wait()
        raise AssertionError(f"still running after {timeout:g} s: not refused") from None
    assert daemon.returncode is not None
    return daemon.returncode, err.decode("utf-8", errors="replace").splitlines()


__all__ = [
    "DAEMON_LOGS",
    "SmscSimulator",
    "StatusWatch",
    "dossier_event",
    "gateway_config",
    "http_get",
    "log_events",
    "publish",
    "run_refused",
    "running_gateway",
    "start_daemon",
    "stop_daemon",
    "write_daemon_config",
]
