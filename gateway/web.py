"""Local HTTP endpoints on aiohttp: the admin endpoint and the simulator's control port.

aiohttp is the gateway's one HTTP library, server and client (the Zalo API). What the
local endpoints add to it, once for both:

- a read timeout: a client has `read_timeout` seconds from connecting to send its whole
  request line and headers (aiohttp's keep-alive timer, which runs from the connection's
  start and closes a connection still waiting for a request), and a handler reading a
  body waits for it no longer (`read_body`); a silent or trickling client cannot hold a
  task and a descriptor for ever;
- small bodies only (`MAX_BODY`), one request per connection (`Connection: close`, as
  curl, Prometheus and systemd health checks expect of a loopback tool);
- errors as JSON (`{"error": ...}`) like every other answer, 404 naming what exists.

Not a web server to expose: it listens on loopback unless configured otherwise.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiohttp import web
from aiohttp.typedefs import Middleware

__all__ = ["MAX_BODY", "READ_TIMEOUT", "LocalServer", "json_response", "read_body"]

# Request bodies larger than this are refused (413): the endpoints take small JSON or nothing.
MAX_BODY = 64 * 1024
# Seconds a client has to send its request (and a handler waits for a body).
READ_TIMEOUT = 10.0

log = structlog.get_logger("gateway.web")

# Where a handler finds its server's read timeout.
_READ_TIMEOUT = web.AppKey("read_timeout", float)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(status: int, payload: Any) -> web.Response:
    """`payload` as one JSON line, non-ASCII kept as is (Vietnamese text reads as such)."""
    body = json.dumps(payload, ensure_ascii=False).encode() + b"\n"
    return web.Response(status=status, body=body, content_type="application/json")


async def read_body(request: web.Request) -> bytes:
    """The request's body, given `READ_TIMEOUT` (the app's `read_timeout`) to arrive.

    Raises HTTPRequestTimeout (408) for a body that does not come in time, and
    HTTPRequestEntityTooLarge (413) for one over MAX_BODY.
    """
    timeout: float = request.app[_READ_TIMEOUT]
    try:
        async with asyncio.timeout(timeout):
            return await request.read()
    except TimeoutError:
        raise web.HTTPRequestTimeout(text="request body not received in time") from None


class _ToStructlog(logging.Handler):
    """aiohttp's protocol log (a malformed request, a client gone mid-answer) as structlog
    events, so the processors mask what a request line may carry (a number in a query)."""

    def emit(self, record: logging.LogRecord) -> None:
        error = record.exc_info[1] if record.exc_info else None
        detail = str(error).strip() if error is not None else record.getMessage()
        log.warning("http_request_refused", detail=" ".join(detail.split()))


# Handed to aiohttp as its protocol logger: never propagated to the root logger, whose
# last-resort handler would print aiohttp's tracebacks to stderr outside structlog.
_PROTOCOL_LOG = logging.getLogger("gateway.web.protocol")
_PROTOCOL_LOG.propagate = False
_PROTOCOL_LOG.addHandler(_ToStructlog())


def _errors(not_found: str) -> Middleware:
    @web.middleware
    async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
        """aiohttp's own answers (404, 405, 408, 413) in the endpoints' JSON shape, and a
        handler's failure as a 500 and a structlog event (never aiohttp's own log line)."""
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            if isinstance(exc, web.HTTPNotFound):
                message = not_found
            elif isinstance(exc, web.HTTPMethodNotAllowed):
                # HEAD comes with every GET route; nobody needs to be told to use it.
                message = "use " + " or ".join(sorted(exc.allowed_methods - {"HEAD"}))
            else:
                message = exc.text or exc.reason
            response = json_response(exc.status, {"error": message})
            if "Allow" in exc.headers:
                response.headers["Allow"] = exc.headers["Allow"]
        except Exception:
            log.exception("http_request_failed", method=request.method, path=request.path)
            response = json_response(500, {"error": "internal error"})
        response.force_close()
        return response

    return errors


class LocalServer:
    """`async with LocalServer(routes, host, port) as server:`; `server.port` is the bound
    port. Binding fails on entry with OSError (a port another service holds)."""

    def __init__(
        self,
        routes: list[web.RouteDef],
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        not_found: str = "unknown path",
        read_timeout: float = READ_TIMEOUT,
    ) -> None:
        self._app = web.Application(client_max_size=MAX_BODY, middlewares=[_errors(not_found)])
        self._app[_READ_TIMEOUT] = read_timeout
        self._app.add_routes(routes)
        self._host, self._requested_port = host, port
        self._read_timeout = read_timeout
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def __aenter__(self) -> LocalServer:
        runner = web.AppRunner(
            self._app,
            handle_signals=False,
            access_log=None,
            logger=_PROTOCOL_LOG,
            # From the connection's start: the time to send a request, then closed.
            keepalive_timeout=self._read_timeout,
            # A body left unread after the answer is not waited for beyond this either.
            lingering_time=self._read_timeout,
            shutdown_timeout=1.0,
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._requested_port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
