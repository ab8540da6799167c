"""`motcua-sms zalo-sim` as an agency starts it: it listens and answers."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys

import aiohttp
import pytest

from gateway.zalo.simcli import parse_template
from tests.support.broker import free_port
from tests.support.daemon import DAEMON_LOGS
from tests.support.wait import eventually


async def answers(port: int, path: str) -> bool:
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}{path}", timeout=aiohttp.ClientTimeout(2)) as r,
        ):
            return r.status == 200
    except (aiohttp.ClientError, OSError, TimeoutError):
        return False


async def test_the_command_starts_the_simulator_and_its_control_port():
    api, control = free_port(), free_port()
    DAEMON_LOGS.mkdir(exist_ok=True)
    with (DAEMON_LOGS / f"zalo-sim-{api}.log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway.cli", "zalo-sim", "--port", str(api),
            "--control-port", str(control), "--refresh-token", "first-token",
            "--template", "2001", "--template", "2002=unapproved",
            stdout=asyncio.subprocess.DEVNULL, stderr=log,
            env={**os.environ, "MOTCUA_SMS_LOG_FORMAT": "json"},
        )  # fmt: skip
    try:
        await eventually(lambda: answers(control, "/stats"), timeout=20, poll=0.1)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{control}/refresh_token") as reply:
                token = json.loads(await reply.read())
            url = f"http://127.0.0.1:{api}/message/template"
            async with session.post(url, json={}, headers={"access_token": "none"}) as reply:
                refused = json.loads(await reply.read())
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), timeout=10)

    assert token == {"refresh_token": "first-token"}
    assert refused["error"] == -124  # an access token it never issued
    assert code == 0


def test_a_template_option_is_an_id_or_an_unapproved_id():
    assert parse_template("2001") == ("2001", True)
    assert parse_template("2002=unapproved") == ("2002", False)


@pytest.mark.parametrize("written", ["", "2001=maybe", "=unapproved"])
def test_a_bad_template_option_is_refused(written):
    with pytest.raises(argparse.ArgumentTypeError):
        parse_template(written)
