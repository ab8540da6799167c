"""Start-up failing, or stopped, while the SMPP bind is still under way (an SMSC slow to
answer it, or one that never does): the daemon ends promptly, says why in one line, and
leaves no bind behind."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import time
from pathlib import Path

import pytest

import gateway.app
from gateway import cli
from gateway.app import serve
from gateway.cli import RUNTIME_FAILURE, STARTUP_FAILURE
from tests.support.daemon import gateway_config, start_daemon, stop_daemon, write_daemon_config
from tests.support.scripted_smsc import Conn, Smsc


def _bind_answered_after(delay: float | None):
    """A bind_answer hook: the bind is answered after `delay` seconds, or never."""

    async def answer(_s: Smsc, conn: Conn, command: str, seq: int) -> None:
        if delay is None:
            return
        await asyncio.sleep(delay)
        conn.bind_resp(command, seq)

    return answer


def _slow_to_give_up(config: Path) -> None:
    """A bind left unanswered is waited for 30 s: longer than any bound a test sets."""
    text = config.read_text(encoding="utf-8")
    assert "  response_timeout: 2\n" in text
    text = text.replace("  response_timeout: 2\n", "  response_timeout: 30\n  relink_after: 120\n")
    config.write_text(text, encoding="utf-8")


def _never_answered(_s: Smsc, _conn: Conn, _p: object) -> None:
    return None


@pytest.mark.parametrize("bind_delay", [0.5, 8.0])
async def test_a_start_up_step_failing_while_the_bind_is_unanswered_ends_the_gateway_promptly(
    broker, tmp_path, monkeypatch, bind_delay
):
    """A start-up step after the session began binding fails: the gateway ends with that
    error at once, whether the bind answer comes soon after or much later, and the bind
    answered meanwhile is not kept (its connection is closed)."""

    async with Smsc(_never_answered, bind_answer=_bind_answered_after(bind_delay)) as smsc:

        class BrokenMqtt:
            """Fails to start once the SMSC has the bind request, still unanswered."""

            def __init__(self, *_a: object) -> None:
                pass

            async def __aenter__(self) -> None:
                async with asyncio.timeout(5):
                    while smsc.binds < 1:
                        await asyncio.sleep(0.01)
                raise RuntimeError("broker client cannot start")

            async def __aexit__(self, *_exc: object) -> None:
                return None

        monkeypatch.setattr(gateway.app, "MqttLink", BrokenMqtt)
        config = gateway_config(
            broker_port=broker.port,
            smsc_port=smsc.port,
            db=tmp_path / "gateway.db",
            client_id="start-up-failure",
        )
        config = dataclasses.replace(
            config,
            smpp=dataclasses.replace(config.smpp, response_timeout=30.0, relink_after=120.0),
        )
        task = asyncio.create_task(serve(config, asyncio.Event()))
        done, _ = await asyncio.wait({task}, timeout=5)
        if not done:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        assert done, "the failed start-up did not end the gateway within 5 s"
        assert isinstance(task.exception(), RuntimeError)
        await asyncio.sleep(min(bind_delay, 1.0) + 0.2)  # a prompt answer has come
        assert smsc.binds == 1
        assert all(conn.closed for conn in smsc.conns), "a bind left open"


async def test_sigterm_while_the_smsc_never_answers_the_bind_stops_the_daemon(broker, tmp_path):
    async with Smsc(_never_answered, bind_answer=_bind_answered_after(None)) as smsc:
        config = tmp_path / "gateway.yaml"
        write_daemon_config(
            config, broker_port=broker.port, smsc_port=smsc.port, db=tmp_path / "gateway.db",
        )  # fmt: skip
        _slow_to_give_up(config)
        daemon = await start_daemon(config)
        async with asyncio.timeout(15):
            while smsc.binds < 1:
                assert daemon.returncode is None, "the daemon ended before binding"
                await asyncio.sleep(0.05)
        status = await stop_daemon(daemon, timeout=15)
    assert status == 0


async def test_a_taken_admin_port_while_the_smsc_never_answers_the_bind_is_exit_3(broker, tmp_path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        async with Smsc(_never_answered, bind_answer=_bind_answered_after(None)) as smsc:
            config = tmp_path / "gateway.yaml"
            write_daemon_config(
                config, broker_port=broker.port, smsc_port=smsc.port,
                db=tmp_path / "gateway.db", admin_port=taken.getsockname()[1],
            )  # fmt: skip
            _slow_to_give_up(config)
            daemon = await start_daemon(config)
            try:
                async with asyncio.timeout(15):
                    status = await daemon.wait()
            finally:
                if daemon.returncode is None:
                    daemon.kill()
                    await daemon.wait()
    finally:
        taken.close()
    assert status == STARTUP_FAILURE
    assert smsc.binds == 0


def test_a_run_that_fails_for_another_reason_says_so_in_one_line_with_status_1(
    tmp_path: Path, monkeypatch, capsys
):
    """Not a traceback: one line naming the error, and status 1 (systemd restarts it)."""

    async def failing_run(*_a: object, **_k: object) -> None:
        raise RuntimeError("intake cannot start")

    monkeypatch.setattr(gateway.app.Gateway, "run", failing_run)
    # At the default level: at debug the traceback follows, as `gateway_failed`.
    monkeypatch.setenv("MOTCUA_SMS_LOG_LEVEL", "info")
    config = tmp_path / "gateway.yaml"
    write_daemon_config(config, broker_port=1, smsc_port=1, db=tmp_path / "gateway.db")
    started = time.monotonic()
    status = cli.main(["run", "-c", str(config)])

    assert status == RUNTIME_FAILURE
    (line,) = capsys.readouterr().err.splitlines()
    assert line == "motcua-sms: run failed: RuntimeError: intake cannot start"
    assert time.monotonic() - started < 30
