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

import json
from typing import Any

from gateway.ops.http import HttpServer, Response
from gateway.smpp.sim import SmscSimulator


class SimControl:
    def __init__(self, sim: SmscSimulator, host: str = "127.0.0.1", port: int = 0) -> None:
        self._sim = sim
        self._http = HttpServer(self._route, host, port)
        self.port = 0

    async def __aenter__(self) -> SimControl:
        await self._http.__aenter__()
        self.port = self._http.port
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.__aexit__(*exc)

    async def _route(self, method: str, path: str, body: bytes) -> Response:
        try:
            code, payload = await self._handle(method, path, body)
        except LookupError as exc:
            code, payload = 409, {"error": str(exc)}
        return Response.json(code, payload)

    async def _handle(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
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
