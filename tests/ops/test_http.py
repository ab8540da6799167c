"""The local HTTP endpoints (gateway.web, on aiohttp): a client that is slow or silent is
dropped after the read timeout, connections past a small cap are closed at once, bad
requests are answered, and errors come back as JSON."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
import structlog
from aiohttp import web

from gateway.web import MAX_BODY, MAX_CONNECTIONS, LocalServer, json_response, read_body
from tests.support.wait import eventually

# Every wait below is bounded by this, far above the read timeouts the tests set.
BOUND = 5.0


async def _hello(_request: web.Request) -> web.Response:
    return json_response(200, {"hello": "xin chào"})


async def _echo(request: web.Request) -> web.Response:
    return json_response(200, {"length": len(await read_body(request))})


async def _broken(_request: web.Request) -> web.Response:
    raise RuntimeError("store gone away, last number 84905123456")


async def _host(request: web.Request) -> web.Response:
    return json_response(200, {"host": request.host})


ROUTES = [
    web.get("/hello", _hello),
    web.post("/echo", _echo),
    web.get("/broken", _broken),
    web.get("/host", _host),
]


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with LocalServer(ROUTES, read_timeout=0.3, not_found="try /hello") as running:
        yield running


async def exchange(port: int, request: bytes) -> bytes:
    """Send `request` raw and read until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    async with asyncio.timeout(BOUND):
        answer = await reader.read()
    writer.close()
    return answer


def parse(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


class TestReadTimeout:
    async def test_a_silent_client_is_dropped_after_the_read_timeout(self, server):
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        async with asyncio.timeout(BOUND):
            assert await reader.read() == b""  # closed by the server, nothing sent
        writer.close()

    async def test_a_client_trickling_its_headers_is_dropped_after_the_read_timeout(self, server):
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /hello HTTP/1.1\r\nHost: x\r\n")

        async def trickle() -> None:
            while True:
                writer.write(b"X-Slow: 1\r\n")  # a header now and then, never the end
                await asyncio.sleep(0.05)

        trickling = asyncio.create_task(trickle())
        try:
            async with asyncio.timeout(BOUND):
                assert await reader.read() == b""
        finally:
            trickling.cancel()
            writer.close()

    async def test_a_body_that_never_comes_is_answered_408(self, server):
        answer = await exchange(
            server.port, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"
        )
        status, _, body = parse(answer)

        assert (status, json.loads(body)) == (408, {"error": "request body not received in time"})

    async def test_a_client_that_answers_in_time_is_served(self, server):
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /hello HTTP/1.1\r\n")
        await asyncio.sleep(0.1)  # well inside the 0.3 s
        writer.write(b"Host: x\r\n\r\n")
        async with asyncio.timeout(BOUND):
            status, _, body = parse(await reader.read())
        writer.close()

        assert (status, json.loads(body)) == (200, {"hello": "xin chào"})


class TestAnswers:
    async def test_get_answers_json_and_closes_the_connection(self, server):
        status, headers, body = parse(
            await exchange(server.port, b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        )

        assert (status, headers["content-type"], headers["connection"]) == (
            200,
            "application/json",
            "close",
        )
        assert body == '{"hello": "xin chào"}\n'.encode()

    async def test_head_answers_the_headers_of_get_without_the_body(self, server):
        get = parse(await exchange(server.port, b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"))
        status, headers, body = parse(
            await exchange(server.port, b"HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        )

        assert (status, headers["content-length"], body) == (200, get[1]["content-length"], b"")

    async def test_an_unknown_path_is_404_saying_what_exists(self, server):
        status, _, body = parse(
            await exchange(server.port, b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
        )

        assert (status, json.loads(body)) == (404, {"error": "try /hello"})

    async def test_a_wrong_method_is_405_naming_the_right_one(self, server):
        status, headers, body = parse(
            await exchange(server.port, b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        )

        assert (status, json.loads(body), headers["allow"]) == (405, {"error": "use POST"}, "POST")

    @pytest.mark.parametrize(
        "request_bytes",
        [
            b"garbage\r\n\r\n",
            b"GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
            b"GET /hello HTTP/1.1\r\nHost: x\r\n" + b"X-Many: 1\r\n" * 200 + b"\r\n",
        ],
        ids=["not-http", "negative-length", "too-many-headers"],
    )
    async def test_a_malformed_request_is_answered_400(self, server, request_bytes):
        status, _, _ = parse(await exchange(server.port, request_bytes))

        assert status == 400

    async def test_a_body_over_the_limit_is_answered_413(self, server):
        body = b"x" * (MAX_BODY + 1)
        answer = await exchange(
            server.port,
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body,
        )

        assert parse(answer)[0] == 413

    async def test_a_body_within_the_limit_is_read_whole(self, server):
        body = b"x" * MAX_BODY
        answer = await exchange(
            server.port,
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body,
        )

        assert json.loads(parse(answer)[2]) == {"length": MAX_BODY}

    async def test_a_failing_handler_is_a_500_whose_body_tells_nothing(self, server):
        status, _, body = parse(
            await exchange(server.port, b"GET /broken HTTP/1.1\r\nHost: x\r\n\r\n")
        )

        assert (status, json.loads(body)) == (500, {"error": "internal error"})


class TestRequestHead:
    async def test_an_http_1_1_request_without_host_is_served(self, server):
        # What a hand-written health check sends: `printf 'GET /healthz HTTP/1.1\r\n\r\n' | nc`.
        status, _, body = parse(await exchange(server.port, b"GET /hello HTTP/1.1\r\n\r\n"))

        assert (status, json.loads(body)) == (200, {"hello": "xin chào"})

    async def test_a_host_the_client_sends_is_the_one_the_handler_sees(self, server):
        status, _, body = parse(
            await exchange(server.port, b"GET /host HTTP/1.1\r\nhost: admin.local\r\n\r\n")
        )

        assert (status, json.loads(body)) == (200, {"host": "admin.local"})

    async def test_a_malformed_request_is_answered_in_json(self, server):
        status, headers, body = parse(await exchange(server.port, b"\x00garbage\r\n\r\n"))

        assert (status, headers["content-type"], json.loads(body)) == (
            400,
            "application/json",
            {"error": "bad request"},
        )

    async def test_a_blank_request_line_is_answered_400_at_once(self):
        # Far longer timeouts than the bound: the answer cannot be the timeout's close.
        async with LocalServer(ROUTES, read_timeout=30.0) as slow:
            status, headers, body = parse(await exchange(slow.port, b"\r\n\r\n"))

        assert (status, headers["content-type"], json.loads(body)) == (
            400,
            "application/json",
            {"error": "bad request"},
        )


class TestBodyLimit:
    async def test_a_declared_body_over_the_limit_is_answered_413_without_waiting_for_it(
        self, server
    ):
        answer = await exchange(
            server.port, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n"
        )

        assert parse(answer)[0] == 413

    async def test_a_refused_body_does_not_hold_the_connection_for_the_body_timeout(self):
        async with LocalServer(ROUTES, read_timeout=30.0) as slow:
            answer = await exchange(  # closed within BOUND, not after 30 s
                slow.port, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n"
            )

        assert parse(answer)[0] == 413


async def _held(connections: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]) -> int:
    """How many of `connections` the server still holds open (closed ones read EOF)."""
    held = 0
    for reader, _writer in connections:
        try:
            async with asyncio.timeout(0.01):
                if await reader.read(1) != b"":
                    held += 1
        except TimeoutError:
            held += 1
    return held


class TestConnectionCap:
    async def test_connections_past_the_cap_are_closed_at_once(self):
        extra = 20
        async with LocalServer(ROUTES, read_timeout=30.0) as slow:
            conns = [
                await asyncio.open_connection("127.0.0.1", slow.port)
                for _ in range(MAX_CONNECTIONS + extra)
            ]
            try:
                async with asyncio.timeout(BOUND):
                    # the extras see EOF at once; the admitted wait (head timeout: 2 s)
                    for reader, _ in conns[MAX_CONNECTIONS:]:
                        assert await reader.read() == b""
                held = await _held(conns)
            finally:
                for _, writer in conns:
                    writer.close()

        assert held == MAX_CONNECTIONS

    async def test_a_client_is_served_once_a_held_connection_leaves(self):
        async with LocalServer(ROUTES, read_timeout=30.0, max_connections=2) as slow:
            idle = [await asyncio.open_connection("127.0.0.1", slow.port) for _ in range(2)]
            await eventually(lambda: slow.connections == 2, BOUND)
            idle[0][1].close()
            await eventually(lambda: slow.connections == 1, BOUND)
            status, _, _ = parse(
                await exchange(slow.port, b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            )
            idle[1][1].close()

        assert status == 200

    async def test_idle_connections_filling_the_cap_are_dropped_after_the_head_timeout(self):
        async with LocalServer(ROUTES, read_timeout=30.0, max_connections=2) as slow:
            idle = [await asyncio.open_connection("127.0.0.1", slow.port) for _ in range(2)]
            try:
                async with asyncio.timeout(BOUND):  # the head timeout (2 s), not the 30 s
                    for reader, _ in idle:
                        assert await reader.read() == b""
                status, _, _ = parse(
                    await exchange(slow.port, b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
                )
            finally:
                for _, writer in idle:
                    writer.close()

        assert status == 200


# A server whose process runs out of descriptors: its own limit just above what it has
# open, a cap above that, so accepting is what fails (EMFILE), as in a daemon whose
# descriptors something else took. It prints its port, then serves until killed.
_STARVED_SERVER = """
import asyncio, os, resource, sys
from gateway.web import LocalServer

async def main():
    async with LocalServer([], read_timeout=30.0, max_connections=1000) as server:
        opened = len(os.listdir("/proc/self/fd"))
        resource.setrlimit(resource.RLIMIT_NOFILE, (opened + 4, resource.getrlimit(
            resource.RLIMIT_NOFILE)[1]))
        print(server.port, flush=True)
        await asyncio.sleep(60)

asyncio.run(main())
"""


async def test_accept_failures_are_one_event_not_a_traceback_per_attempt():
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _STARVED_SERVER,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    conns = []
    try:
        assert server.stdout is not None
        port = int(await asyncio.wait_for(server.stdout.readline(), BOUND))
        for _ in range(20):  # more than its descriptors: the kernel queues them, accept fails
            conns.append(await asyncio.open_connection("127.0.0.1", port))
        await asyncio.sleep(1.5)  # asyncio retries the accept every second: two rounds
    finally:
        server.kill()
        output = (await asyncio.wait_for(server.communicate(), BOUND))[0].decode()
        for _, writer in conns:
            writer.close()

    assert output.count("http_accept_failed") == 1, output[-2000:]
    assert "Too many open files" in output
    assert "Traceback" not in output, output[-2000:]


async def test_the_server_keeps_serving_after_bad_and_silent_clients(server):
    silent = await asyncio.open_connection("127.0.0.1", server.port)
    await exchange(server.port, b"garbage\r\n\r\n")

    status, _, _ = parse(await exchange(server.port, b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"))
    silent[1].close()

    assert status == 200


async def test_a_malformed_request_is_a_structlog_event_with_numbers_masked(server):
    # Seen as rendered: after the masking processor, just before the renderer. (The module's
    # logger is cached with its output, not its processors: those are changed in place.)
    seen: list[dict[str, Any]] = []

    def keep(_logger: Any, _method: str, event: Any) -> Any:
        seen.append(dict(event))
        return event

    processors = structlog.get_config()["processors"]
    processors.insert(len(processors) - 1, keep)
    try:
        await exchange(server.port, b"GET /84905123456 HTTP/1.1 junk\r\n\r\n")
    finally:
        processors.remove(keep)

    assert [e["event"] for e in seen] == ["http_request_refused"]
    assert "8490*****56" in seen[0]["detail"]
    assert "84905123456" not in repr(seen)
