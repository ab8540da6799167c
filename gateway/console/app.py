"""The console as an aiohttp application on `gateway.web.LocalServer`, and its process.

What every answer gets, in one place (`guard`):

- security headers: a CSP that allows nothing but this site's own stylesheet and images
  (no script at all, no inline style, no framing: `frame-ancestors 'none'` and
  X-Frame-Options DENY), nosniff, no Referer sent anywhere, and `Cache-Control: no-store`,
  so figures and masked numbers are not kept in a shared computer's browser cache (the
  stylesheet alone may be cached);
- refusals as a page in Vietnamese with their status (400, 401 with the login form, 403,
  404, 405, 429; 503 while the store is of a schema older than the figures, until the
  daemon upgrades it), and an unexpected failure as a 500 page and a structlog event,
  never a traceback.

`serve` is `motcua-sms console`: the composition root opens the store read-only (as
`report` does) and hands over the figures; the console never writes to the store, so it
never holds the daemon's lock or a write transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from importlib.resources import files

import structlog
from aiohttp import web

from gateway.console import login, views
from gateway.console.context import (
    CONSOLE,
    EXPIRED,
    SESSION_COOKIE,
    WRONG_HOST,
    Console,
    LoginNeeded,
    host_allowed,
    refusal,
)
from gateway.console.query import Refusal
from gateway.store.schema import StoreOutdated
from gateway.web import LocalServer

log = structlog.get_logger("gateway.console")

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
STYLESHEET = files("gateway.console").joinpath("static", "console.css").read_bytes()

NOT_FOUND = "Không có trang này."
METHOD = "Trang này không nhận cách gửi yêu cầu này."
INTERNAL = "Lỗi nội bộ: số liệu chưa đọc được. Hãy thử lại sau ít phút."
OUTDATED = (
    "Kho dữ liệu còn ở phiên bản cũ, chưa có số liệu đối soát: dịch vụ motcua-sms nâng cấp "
    "kho khi khởi động. Hãy báo cán bộ kỹ thuật khởi động lại dịch vụ motcua-sms."
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    console = request.app[CONSOLE]
    if not host_allowed(console.settings, request):
        log.warning("console_request_refused", reason="host", path=request.path)
        return refusal(400, WRONG_HOST, None)
    try:
        return await handler(request)
    except LoginNeeded as needed:
        return console.login(401, login_message(request), needed.next_path)
    except Refusal as refused:
        return refusal(refused.status, refused.message, console.session_of(request))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = {404: NOT_FOUND, 405: METHOD}.get(exc.status, exc.reason)
        answer = refusal(exc.status, message, console.session_of(request))
        if "Allow" in exc.headers:
            answer.headers["Allow"] = exc.headers["Allow"]
        return answer
    except StoreOutdated:
        # The console runs a newer version than the daemon that keeps the store has
        # started with: nothing to read until the daemon upgrades the store.
        log.warning("console_store_outdated", path=request.path)
        return refusal(503, OUTDATED, console.session_of(request))
    except Exception:
        log.exception("console_request_failed", method=request.method, path=request.path)
        return refusal(500, INTERNAL, None)


def login_message(request: web.Request) -> str | None:
    """What the login form says to a request that came without a live session: nothing
    to someone who simply has not logged in, "expired" to a cookie that is not (or no
    longer) a session."""
    return EXPIRED if request.cookies.get(SESSION_COOKIE) else None


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await _answer(request, handler)
    response.headers.update(SECURITY_HEADERS)
    if request.path.startswith("/static/") and response.status == 200:
        response.headers["Cache-Control"] = "max-age=3600"
    else:
        response.headers["Cache-Control"] = "no-store"
    return response


async def _stylesheet(request: web.Request) -> web.StreamResponse:
    if request.query:
        raise Refusal(400, "Tệp này không nhận tham số.")
    return web.Response(body=STYLESHEET, content_type="text/css", charset="utf-8")


async def _favicon(request: web.Request) -> web.StreamResponse:
    return web.Response(status=204)


ROUTES = [
    web.get("/", views.overview),
    web.get("/thu-tuc", views.procedures),
    web.get("/thong-bao-loi", views.failed),
    web.get("/xuat/{name}.{fmt}", views.export),
    web.get("/dang-nhap", login.login_form),
    web.post("/dang-nhap", login.login),
    web.post("/dang-xuat", login.logout),
    web.get("/static/console.css", _stylesheet),
    web.get("/favicon.ico", _favicon),
]


def server(console: Console, host: str, port: int) -> LocalServer:
    """The console's HTTP server (`async with`): its routes, answers and headers."""
    return LocalServer(
        ROUTES,
        host,
        port,
        not_found=NOT_FOUND,
        middlewares=[guard],
        state={CONSOLE: console},
        cancel_on_disconnect=True,  # a read for a client gone is not started (gate)
    )


async def serve(console: Console, stop: asyncio.Event) -> None:
    """Serve until `stop` is set; OSError when the port cannot be bound."""
    settings = console.settings
    async with server(console, settings.host, settings.port) as listening:
        log.info("console_listening", host=settings.host, port=listening.port)
        print(f"motcua-sms console: http://{settings.host}:{listening.port}/", flush=True)
        await stop.wait()
