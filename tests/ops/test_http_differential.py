"""Where the aiohttp endpoint (gateway.web) answers differently from the hand-written
gateway/http.py it replaced (behaviour was to stay the same).

- the old server served at most 32 connections at once and closed the rest at once: a
  client (or a looping health check) holding many idle connections could not take the
  daemon's file descriptors, which the SMPP and MQTT reconnects need;
- a request that does not parse got `{"error": ...}` JSON like every other answer (the
  module's own docstring still promises that); now aiohttp's text/plain page, and an
  HTTP/1.1 request without Host (`printf 'GET /healthz HTTP/1.1\\r\\n\\r\\n' | nc`) or with
  bare LF line ends, which the old server answered, is refused.
"""

from __future__ import annotations

import asyncio

from tests.ops.test_http import BOUND, ROUTES, exchange, parse

from gateway.web import LocalServer

# What gateway/http.py (before the redesign) served at once.
OLD_MAX_CONNECTIONS = 32


async def test_idle_connections_beyond_a_small_cap_are_not_held():
    async with LocalServer(ROUTES, read_timeout=5.0) as server:
        conns = []
        try:
            async with asyncio.timeout(BOUND):
                for _ in range(200):
                    conns.append(await asyncio.open_connection("127.0.0.1", server.port))
            await asyncio.sleep(0.5)
            held = 0
            for reader, _writer in conns:
                try:
                    async with asyncio.timeout(0.01):
                        if await reader.read(1) != b"":
                            held += 1
                except TimeoutError:
                    held += 1  # still open: the server is holding it
            assert held <= OLD_MAX_CONNECTIONS, f"{held} idle connections held open"
        finally:
            for _reader, writer in conns:
                writer.close()


async def test_a_request_without_host_is_answered_as_before():
    async with LocalServer(ROUTES, read_timeout=1.0) as server:
        status, _headers, _body = parse(await exchange(server.port, b"GET /hello HTTP/1.1\r\n\r\n"))
        assert status == 200


async def test_a_malformed_request_is_answered_in_json():
    async with LocalServer(ROUTES, read_timeout=1.0) as server:
        status, headers, _body = parse(await exchange(server.port, b"\x00garbage\r\n\r\n"))
        assert status == 400
        assert headers["content-type"].startswith("application/json")
