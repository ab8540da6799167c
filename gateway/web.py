"""Local HTTP endpoints on aiohttp: the admin endpoint and the simulator's control port.

aiohttp is the gateway's one HTTP library, server and client (the Zalo API). What the
local endpoints add to it, once for both:

- a cap on connections (`MAX_CONNECTIONS`): past it a new connection is closed at once,
  so a client (or a looping health check) holding idle connections cannot take the
  daemon's file descriptors, which the SMPP and MQTT reconnects need;
- a short head timeout: a client has `HEAD_TIMEOUT` seconds (or `read_timeout`, if
  shorter) from connecting to send its request line and headers (aiohttp's keep-alive
  timer, which runs from the connection's start and closes a connection still waiting for
  a request), so idle clients filling the cap free it quickly and /healthz is not starved;
  a handler reading a body waits `read_timeout` for it (`read_body`);
- small bodies only (`MAX_BODY`), one request per connection (`Connection: close`, as
  curl, Prometheus and systemd health checks expect of a loopback tool);
- HTTP/1.1 without `Host` served (hand-written health checks send none; aiohttp's parser
  refuses it, so the head gets the listening address as its Host before it is parsed);
- errors as JSON (`{"error": ...}`) like every other answer: aiohttp's own refusals (a
  request that does not parse, a blank request line), 404 naming what exists;
- accept failures (EMFILE: out of descriptors) as one `http_accept_failed` event a minute,
  not asyncio's traceback for every attempt.

Not a web server to expose: it listens on loopback unless configured otherwise.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import socket
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

import structlog
from aiohttp import web
from aiohttp.typedefs import Middleware

__all__ = [
    "HEAD_TIMEOUT",
    "MAX_BODY",
    "MAX_CONNECTIONS",
    "READ_TIMEOUT",
    "LocalServer",
    "json_response",
    "read_body",
]

# Request bodies larger than this are refused (413): the endpoints take small JSON or nothing.
MAX_BODY = 64 * 1024
# Seconds a handler waits for a request's body (and the most a client has for its head).
READ_TIMEOUT = 10.0
# Seconds a client has from connecting to send its request line and headers: a loopback
# tool sends them at once; an idle connection holds one of the few slots no longer.
HEAD_TIMEOUT = 2.0
# Connections served at once; past this a new one is closed at once (curl, Prometheus and
# systemd need a handful; the daemon's descriptors are for its links).
MAX_CONNECTIONS = 32
# A request head not ended within this many bytes is passed to aiohttp as it is (refused).
_MAX_HEAD = 16 * 1024
# At most one `http_accept_failed` event per this many seconds.
ACCEPT_LOG_INTERVAL = 60.0

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
    declared = request.content_length
    if declared is not None and declared > MAX_BODY:
        # Refused on its declared length, at once: not waited for, not read.
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=declared)
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


_HOST_HEADER = re.compile(rb"^host[ \t]*:", re.IGNORECASE | re.MULTILINE)
_HEAD_ENDS = (b"\r\n\r\n", b"\n\n")


def _error_text(status: int) -> str:
    """What an error answer's JSON says: the status's phrase ("bad request")."""
    if status >= 500:
        return "internal error"
    try:
        return HTTPStatus(status).phrase.lower()
    except ValueError:
        return "error"


def _with_host(head: bytes, host: bytes) -> bytes:
    """`head` (a request's first bytes, its headers complete) with `Host: host` added after
    the request line when it is HTTP/1.1 without one; anything else unchanged."""
    start = 2 if head.startswith(b"\r\n") else 0  # one blank line before a request is allowed
    line_end = head.find(b"\r\n", start)
    if line_end < 0 or not head[start:line_end].endswith(b" HTTP/1.1"):
        return head
    end = head.find(b"\r\n\r\n", line_end)
    if _HOST_HEADER.search(head, line_end + 2, end + 2):
        return head
    return head[:line_end] + b"\r\nHost: " + host + head[line_end:]


def _raw_answer(status: int) -> bytes:
    """A whole error answer, for a connection aiohttp's parser cannot be given."""
    body = json.dumps({"error": _error_text(status)}).encode() + b"\n"
    return (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


class _Slots:
    """The connections a server holds now, against its cap."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0


class _Handler(web.RequestHandler):
    """aiohttp's connection protocol with what the local endpoints add on the wire: a
    connection past the cap closed at once, an HTTP/1.1 head without Host given one (the
    parser refuses it otherwise), a blank request line answered 400, and aiohttp's own
    refusals (a request that does not parse) answered in the endpoints' JSON shape."""

    def __init__(self, manager: web.Server, slots: _Slots, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._gate_slots = slots
        self._gate_admitted = False
        self._gate_head: bytes | None = b""  # until the first head is complete; then None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._gate_slots.used >= self._gate_slots.limit:
            transport.close()  # never registered with aiohttp: nothing else to undo
            return
        self._gate_slots.used += 1
        self._gate_admitted = True
        super().connection_made(transport)

    def connection_lost(self, exc: BaseException | None) -> None:
        if not self._gate_admitted:
            return
        self._gate_admitted = False
        self._gate_slots.used -= 1
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self._gate_admitted:
            return
        if self._gate_head is not None:
            head = self._gate_head + data
            if not any(end in head for end in _HEAD_ENDS) and len(head) <= _MAX_HEAD:
                self._gate_head = head
                return
            self._gate_head = None
            if head.startswith(b"\r\n\r\n") and self.transport is not None:
                log.warning("http_request_refused", detail="blank request line")
                self.transport.write(_raw_answer(400))
                self.transport.close()
                return
            sockname = self.transport.get_extra_info("sockname") if self.transport else None
            host = f"{sockname[0]}:{sockname[1]}" if sockname else "localhost"
            data = _with_host(head, host.encode())
        super().data_received(data)

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """aiohttp's answer to a request it could not take (logged, as aiohttp does, to the
        protocol log), as `{"error": "bad request"}`; the parser's detail is not echoed."""
        super().handle_error(request, status, exc, message)
        response = json_response(status, {"error": _error_text(status)})
        response.force_close()
        return response


class _AcceptErrors:
    """The loop's exception handler while a server listens. asyncio reports each failed
    accept on a listening socket (EMFILE, out of descriptors) with a traceback, many times a
    second; for this server's sockets that is one `http_accept_failed` event per
    ACCEPT_LOG_INTERVAL with the count since the last. Anything else goes on as before."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sockets: Iterable[socket.socket]) -> None:
        self._loop = loop
        self._fds = {sock.fileno() for sock in sockets}
        self._ports = sorted({sock.getsockname()[1] for sock in sockets})
        self._previous = loop.get_exception_handler()
        self._failures = 0
        self._next_log = 0.0
        loop.set_exception_handler(self)

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        sock = context.get("socket")
        if sock is None or sock.fileno() not in self._fds:
            if self._previous is not None:
                self._previous(loop, context)
            else:
                loop.default_exception_handler(context)
            return
        self._failures += 1
        now = loop.time()
        if now >= self._next_log:
            log.warning(
                "http_accept_failed",
                port=self._ports[0],
                error=str(context.get("exception") or context.get("message")),
                failures=self._failures,
            )
            self._failures, self._next_log = 0, now + ACCEPT_LOG_INTERVAL

    def remove(self) -> None:
        """Put the handler before back (unless another was set since)."""
        if self._loop.get_exception_handler() is self:
            self._loop.set_exception_handler(self._previous)


class ListenRefused(Exception):
    """An endpoint's address cannot be listened on (another service holds the port): a
    start-up refusal, named by what the endpoint is and the key that sets its port."""

    def __init__(self, what: str, key: str, host: str, port: int, why: str) -> None:
        super().__init__(
            f"{what} {host}:{port} cannot be opened ({why}); free the port or set {key}"
        )
        self.port = port


async def listening(server: LocalServer, what: str, key: str, host: str, port: int) -> None:
    """Open `server`; a port it cannot bind is ListenRefused."""
    try:
        await server.__aenter__()
    except OSError as exc:
        # asyncio's strerror repeats the address: the errno's own words are enough.
        why = os.strerror(exc.errno).lower() if exc.errno else str(exc)
        raise ListenRefused(what, key, host, port, why) from None


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
        max_connections: int = MAX_CONNECTIONS,
        middlewares: Sequence[Middleware] = (),
        state: Mapping[web.AppKey[Any], Any] | None = None,
        cancel_on_disconnect: bool = False,
    ) -> None:
        """`middlewares` run inside the JSON error answers (a server answering in another
        shape, HTML, turns errors into its own answers there); `state` is put in the app
        for its handlers (`request.app[key]`). `cancel_on_disconnect` cancels a handler
        whose client has gone (for handlers whose work is worth stopping: a long read)."""
        self._app = web.Application(
            client_max_size=MAX_BODY, middlewares=[_errors(not_found), *middlewares]
        )
        self._app[_READ_TIMEOUT] = read_timeout
        for key, value in (state or {}).items():
            self._app[key] = value
        self._app.add_routes(routes)
        self._host, self._requested_port = host, port
        self._read_timeout = read_timeout
        self._slots = _Slots(max_connections)
        self._cancel_on_disconnect = cancel_on_disconnect
        self._runner: web.AppRunner | None = None
        self._listener: asyncio.Server | None = None
        self._accept_errors: _AcceptErrors | None = None
        self.port = 0

    @property
    def connections(self) -> int:
        """Connections held now (at most `max_connections`)."""
        return self._slots.used

    async def __aenter__(self) -> LocalServer:
        runner = web.AppRunner(
            self._app,
            handle_signals=False,
            shutdown_timeout=1.0,
            handler_cancellation=self._cancel_on_disconnect,
        )
        await runner.setup()
        manager = runner.server
        assert manager is not None  # set by setup()
        loop = asyncio.get_running_loop()
        timeout = min(self._read_timeout, HEAD_TIMEOUT)
        options: dict[str, Any] = {
            "loop": loop,
            "access_log": None,
            "logger": _PROTOCOL_LOG,
            # From the connection's start: the time to send a request head, then closed.
            "keepalive_timeout": timeout,
            # A body left unread after the answer (a 413) is not waited for beyond this.
            "lingering_time": timeout,
        }
        try:
            self._listener = await loop.create_server(
                lambda: _Handler(manager, self._slots, **options),
                self._host,
                self._requested_port,
            )
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._accept_errors = _AcceptErrors(loop, self._listener.sockets)
        self.port = self._listener.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()  # closes the connections still open
        if self._accept_errors is not None:
            self._accept_errors.remove()
            self._accept_errors = None
