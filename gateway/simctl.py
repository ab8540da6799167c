"""HTTP control port of `motcua-sms smsc-sim`: counters, MO injection, dropping sessions.

Agencies testing their integration drive the simulator from a shell with curl:

    curl -s 127.0.0.1:2776/stats
    curl -s -XPOST 127.0.0.1:2776/mo \\
         -d '{"source":"84905123456","destination":"8083","text":"MCKH 0101701234"}'
    curl -s -XPOST 127.0.0.1:2776/drop
    curl -s -XPOST 127.0.0.1:2776/unbind

Plain asyncio and JSON, loopback only: it is a test tool, not an API to expose.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from gateway.smpp.sim import SmscSimulator

_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
}


class SimControl:
    def __init__(self, sim: SmscSimulator, host: str = "127.0.0.1", port: int = 0) -> None:
        self._sim = sim
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> SimControl:
        self._server = await asyncio.start_server(self._serve, self._host, self._port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = (await reader.readline()).decode("latin-1").split()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip() or 0)
            body = await reader.readexactly(length) if length else b""
            code, payload = await self._route(request_line, body)
        except LookupError as exc:
            code, payload = 409, {"error": str(exc)}
        except asyncio.CancelledError:
            writer.close()
            return
        except Exception as exc:  # a test tool answers every request, even a broken one
            code, payload = 400, {"error": str(exc)}
        data = json.dumps(payload, ensure_ascii=False).encode() + b"\n"
        head = (
            f"HTTP/1.1 {code} {_REASONS.get(code, '')}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode() + data)
        with contextlib.suppress(Exception):
            await writer.drain()
            writer.close()

    async def _route(self, request_line: list[str], body: bytes) -> tuple[int, Any]:
        if len(request_line) < 2:
            return 400, {"error": "bad request line"}
        method, path = request_line[0], request_line[1]
        if path == "/stats" and method == "GET":
            return 200, {**self._sim.stats.as_dict(), "sessions": self._sim.sessions}
        if method != "POST":
            return (
                (405, {"error": "use POST"})
                if path in ("/mo", "/drop", "/unbind")
                else (404, {"error": "unknown path"})
            )
        if path == "/drop":
            return 200, {"dropped": self._sim.drop_all()}
        if path == "/unbind":
            await self._sim.unbind_all()
            return 200, {"unbound": True}
        if path == "/mo":
            mo = json.loads(body or b"{}")
            for key in ("source", "destination", "text"):
                if not isinstance(mo.get(key), str):
                    return 400, {"error": f"{key}: required string"}
            statuses = await self._sim.inject_mo(
                mo["source"], mo["destination"], mo["text"], timeout=2.0
            )
            return 200, {"deliver_sm_resp": statuses}
        return 404, {"error": "unknown path"}
