"""The simulator's control port and its command-line rules."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

import pytest

from gateway.smpp.inbound import Mo
from gateway.smpp.sim import Rule
from gateway.smpp.simcli import parse_rule
from gateway.smpp.simctl import SimControl
from tests.support.wait import eventually


async def http(port: int, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    writer.write(
        f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(data)}\r\n\r\n".encode()
        + data
    )
    raw = await reader.read()
    writer.close()
    head, _, payload = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(payload)


@pytest.fixture
async def control(smsc):
    async with SimControl(smsc) as ctl:
        yield ctl


async def test_stats_reports_the_counters(control, bound_session):
    """GET /stats shows binds and sessions."""
    await bound_session()

    code, stats = await http(control.port, "GET", "/stats")

    assert code == 200
    assert (stats["binds"], stats["sessions"]) == (1, 1)


async def test_mo_is_injected_to_the_bound_session(control, bound_session, inbox):
    """POST /mo delivers an MO and returns the deliver_sm_resp statuses."""
    await bound_session()

    code, reply = await http(
        control.port, "POST", "/mo", {"source": "84905123456", "destination": "8083", "text": "HD"}
    )
    (mo,) = await inbox.wait_for(1)

    assert (code, reply) == (200, {"deliver_sm_resp": [0]})
    assert mo == Mo(source="84905123456", destination="8083", text="HD")


@pytest.mark.slow
async def test_mo_without_a_bound_receiver_is_a_conflict(control):
    """Nobody bound: 409 with the reason, rather than a request that hangs."""
    code, reply = await http(
        control.port, "POST", "/mo", {"source": "84905123456", "destination": "8083", "text": "x"}
    )

    assert code == 409
    assert "no receiver" in reply["error"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "Expecting"),
        ({"destination": "8083", "text": "x"}, "source"),
        ({"source": "84905123456", "destination": 8083, "text": "x"}, "destination"),
        ([1, 2], "JSON object"),
    ],
)
async def test_bad_mo_request_is_refused_with_the_reason(control, body, fragment):
    code, reply = await http(control.port, "POST", "/mo", body)

    assert code == 400
    assert fragment in reply["error"]


async def test_drop_closes_every_session(control, bound_session, smsc):
    """POST /drop closes the sessions; the ESME binds again by itself."""
    session = await bound_session()

    code, reply = await http(control.port, "POST", "/drop")
    await eventually(lambda: smsc.stats.binds == 2 and session.bound)

    assert (code, reply) == (200, {"dropped": 1})


@pytest.mark.parametrize(
    ("method", "path", "expected"), [("GET", "/nope", 404), ("GET", "/drop", 405)]
)
async def test_unknown_paths_and_methods_are_refused(control, method, path, expected):
    code, _ = await http(control.port, method, path)

    assert code == expected


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("8490000*=undeliverable", Rule("8490000*", "undeliverable")),
        ("84911*=transient:3", Rule("84911*", "transient", count=3)),
        ("84912*=reject@0x45", Rule("84912*", "reject", status=0x45)),
        ("*=no_receipt", Rule("*", "no_receipt")),
    ],
)
def test_cli_rules_parse(text, rule):
    assert parse_rule(text) == rule


@pytest.mark.parametrize("text", ["8490*", "=deliver", "849*=vanish"])
def test_bad_cli_rules_are_refused(text):
    with pytest.raises(argparse.ArgumentTypeError):
        parse_rule(text)


@pytest.mark.parametrize("text", ["849*=nack:1@0x58", "849*=reject:2", "849*=deliver:1"])
def test_a_count_on_an_outcome_that_answers_every_submit_is_refused(text):
    with pytest.raises(argparse.ArgumentTypeError, match=r"a count \(:N\) is for transient only"):
        parse_rule(text)
