"""A minimal HTTP/1.1 server for local tools: the admin endpoint and the simulator's control.

One request per connection, `Connection: close`, bodies by Content-Length. Enough for
curl, Prometheus and systemd health checks on loopback; not a web server to expose.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    503: "Service Unavailable",
}

# Request bodies larger than this are refused: the endpoints take small JSON or nothing.
MAX_BODY = 64 * 1024
# A client has this long (seconds) to send its whole request; an idle or trickling
# connection would otherwise hold a task and a descriptor for ever.
READ_TIMEOUT = 10.0
# Connections served at once; past this a new one is closed at once (curl, Prometheus and
# systemd need a handful).
MAX_CONNECTIONS = 32
MAX_HEADERS = 100


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"

    @classmethod
    def json(cls, status: int, payload: Any) -> Response:
        return cls(status, json.dumps(payload, ensure_ascii=False).encode() + b"\n")


Route = Callable[[str, str, bytes], Awaitable[Response]]


class HttpServer:
    """`async with HttpServer(route, host, port) as server:`; `server.port` is the bound port."""

    def __init__(
        self,
        route: Route,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        read_timeout: float = READ_TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self._route = route
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._read_timeout = read_timeout
        self._max_connections = max_connections
        self.open_connections = 0
        self.port = 0

    async def __aenter__(self) -> HttpServer:
        self._server = await asyncio.start_server(self._serve, self._host, self._port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.open_connections >= self._max_connections:
            writer.close()
            return
        self.open_connections += 1
        try:
            await self._answer(reader, writer)
        finally:
            self.open_connections -= 1

    async def _read(self, reader: asyncio.StreamReader) -> tuple[list[str], bytes] | None:
        """The request line and body; None for a request too large or malformed."""
        request_line = (await reader.readline()).decode("latin-1").split()
        length = 0
        headers = 0
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            headers += 1
            if headers > MAX_HEADERS:
                return None
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip() or 0)
        if len(request_line) < 2 or not 0 <= length <= MAX_BODY:
            return None
        return request_line, await reader.readexactly(length) if length else b""

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            try:
                async with asyncio.timeout(self._read_timeout):
                    request = await self._read(reader)
            except TimeoutError:
                writer.close()
                return
            if request is None:
                response = Response.json(400, {"error": "bad request"})
            else:
                (method, path, *_), body = request
                response = await self._route(method, path, body)
        except asyncio.CancelledError:
            writer.close()
            raise
        except Exception as exc:  # every request gets an answer, even a broken one
            response = Response.json(400, {"error": str(exc)})
        head = (
            f"HTTP/1.1 {response.status} {_REASONS.get(response.status, '')}\r\n"
            f"Content-Type: {response.content_type}\r\n"
            f"Content-Length: {len(response.body)}\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode() + response.body)
        with contextlib.suppress(Exception):
            await writer.drain()
            writer.close()
