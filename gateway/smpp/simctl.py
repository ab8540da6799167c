"""HTTP control port of `motcua-sms smsc-sim`: counters, MO injection, dropping sessions.

Agencies testing their integration drive the simulator from a shell with curl:

    curl -s 127.0.0.1:2776/stats
    curl -s -XPOST 127.0.0.1:2776/mo \\
         -d '{"source":"84905123456","destination":"8083","text":"MCKH 0101701234"}'
    curl -s -XPOST 127.0.0.1:2776/drop
    curl -s -XPOST 127.0.0.1:2776/unbind

JSON on aiohttp (gateway.web: read timeout, JSON errors), loopback only: it is a test
tool, not an API to expose.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from gateway.smpp.sim import SmscSimulator
from gateway.web import LocalServer, json_response, read_body

# Seconds an injected MO waits for the bound receiver's deliver_sm_resp.
MO_TIMEOUT = 2.0


class SimControl:
    """`async with SimControl(sim, host, port) as ctl:`; `ctl.port` is the bound port."""

    def __init__(self, sim: SmscSimulator, host: str = "127.0.0.1", port: int = 0) -> None:
        self._sim = sim
        self._http = LocalServer(
            [
                web.get("/stats", self._stats),
                web.post("/mo", self._mo),
                web.post("/drop", self._drop),
                web.post("/unbind", self._unbind),
            ],
            host,
            port,
        )
        self.port = 0

    async def __aenter__(self) -> SimControl:
        await self._http.__aenter__()
        self.port = self._http.port
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.__aexit__(*exc)

    async def _stats(self, _request: web.Request) -> web.Response:
        return json_response(200, {**self._sim.stats.as_dict(), "sessions": self._sim.sessions})

    async def _drop(self, _request: web.Request) -> web.Response:
        return json_response(200, {"dropped": self._sim.drop_all()})

    async def _unbind(self, _request: web.Request) -> web.Response:
        await self._sim.unbind_all()
        return json_response(200, {"unbound": True})

    async def _mo(self, request: web.Request) -> web.Response:
        """Inject an MO: 400 naming what is wrong with the request, 409 when nobody is
        bound to receive it, else the deliver_sm_resp statuses."""
        try:
            mo: Any = json.loads(await read_body(request) or b"{}")
        except ValueError as exc:  # not JSON, or not UTF-8
            return json_response(400, {"error": str(exc)})
        if not isinstance(mo, dict):
            return json_response(400, {"error": "body: a JSON object expected"})
        for key in ("source", "destination", "text"):
            if not isinstance(mo.get(key), str):
                return json_response(400, {"error": f"{key}: required string"})
        try:
            statuses = await self._sim.inject_mo(
                mo["source"], mo["destination"], mo["text"], timeout=MO_TIMEOUT
            )
        except LookupError as exc:
            return json_response(409, {"error": str(exc)})
        return json_response(200, {"deliver_sm_resp": statuses})
