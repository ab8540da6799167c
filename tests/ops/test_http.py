"""The local HTTP endpoints (gateway.web, on aiohttp): a client that is slow or silent is
dropped after the read timeout, bad requests are answered, and errors come back as JSON."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import structlog
from aiohttp import web

from gateway.web import MAX_BODY, LocalServer, json_response, read_body

# Every wait below is bounded by this, far above the read timeouts the tests set.
BOUND = 5.0


async def _hello(_request: web.Request) -> web.Response:
    return json_response(200, {"hello": "xin chào"})


async def _echo(request: web.Request) -> web.Response:
    return json_response(200, {"length": len(await read_body(request))})


async def _broken(_request: web.Request) -> web.Response:
    raise RuntimeError("store gone away, last number 84905123456")


ROUTES = [web.get("/hello", _hello), web.post("/echo", _echo), web.get("/broken", _broken)]


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
            b"GET /hello HTTP/1.1\r\n\r\n",  # HTTP/1.1 without Host
            b"GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
            b"GET /hello HTTP/1.1\r\nHost: x\r\n" + b"X-Many: 1\r\n" * 200 + b"\r\n",
        ],
        ids=["not-http", "no-host", "negative-length", "too-many-headers"],
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
