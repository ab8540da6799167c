"""Logging in and out.

A login is refused before its password is checked when its CSRF token is missing or not
the one its form was given (403), when its fields are not the form's (400), or while the
name is braked at the client's address after repeated failures (429, `auth.LoginBrake`).
A wrong name and a wrong password get the same answer after the same work.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from urllib.parse import parse_qsl

import structlog
from aiohttp import web

from gateway.console.auth import brake_key, check_password
from gateway.console.context import (
    CONSOLE,
    CSRF_REFUSED,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    local_path,
    needs_session,
    redirect,
    refuse_query,
    same_token,
)
from gateway.console.query import Refusal
from gateway.web import read_body

log = structlog.get_logger("gateway.console")

LOGIN_FIELDS = frozenset({"csrf", "next", "user", "password"})
LOGOUT_FIELDS = frozenset({"csrf"})
WRONG = "Sai tên đăng nhập hoặc mật khẩu."
MAX_FIELD = 1024


async def form_fields(request: web.Request, allowed: frozenset[str]) -> dict[str, str]:
    """The form's fields (urlencoded, UTF-8); 400 for any other field, a repeated one, or
    a body that is not a form."""
    refuse_query(request)
    body = await read_body(request)
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        raise Refusal(400, "Nội dung biểu mẫu không đọc được.") from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name not in allowed:
            raise Refusal(400, f"Biểu mẫu có trường không được hỗ trợ: “{name[:30]}”.")
        if name in fields:
            raise Refusal(400, f"Trường “{name}” chỉ được gửi một lần.")
        if len(value) > MAX_FIELD:
            raise Refusal(400, f"Trường “{name}” dài quá.")
        fields[name] = value
    return fields


async def login_form(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    if set(request.query) - {"next"}:
        raise Refusal(400, "Trang đăng nhập chỉ nhận tham số “next”.")
    if console.session_of(request) is not None:
        return redirect("/")
    return console.login(next_path=local_path(request.query.get("next")))


async def login(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    fields = await form_fields(request, LOGIN_FIELDS)
    if not same_token(request.cookies.get(LOGIN_COOKIE), fields.get("csrf")):
        log.warning("console_login_refused", reason="csrf")
        return console.login(403, CSRF_REFUSED)
    name = fields.get("user", "").strip()
    next_path = local_path(fields.get("next"))
    key = brake_key(name, client_address(request, console.settings.trusted_proxies))
    user = console.settings.users.get(name)
    # What was typed as a name is logged only when it is a user's: it may be anything
    # else (a password typed in the wrong box, a phone number).
    shown = user.name if user is not None else None
    # One attempt at a time per key: guesses sent together cannot all pass meanwhile.
    async with console.brake.turn(key):
        wait = console.brake.wait(key)
        if wait > 0:
            log.warning("console_login_refused", reason="braked", user=shown)
            return console.login(429, braked(wait), next_path)
        if not await check_password(user, fields.get("password", "")):
            console.brake.failed(key)
            log.warning("console_login_failed", user=shown)
            return console.login(401, WRONG, next_path)
    assert user is not None
    console.brake.succeeded(key)
    session = console.sessions.start(user)
    log.info("console_login", user=user.name, role=user.role)
    response = redirect(next_path)
    console.set_cookie(response, SESSION_COOKIE, session.id)
    response.del_cookie(LOGIN_COOKIE, path="/")
    return response


def braked(wait: float) -> str:
    """What a braked login is told: how long to wait, in seconds or minutes."""
    seconds, minutes = f"{max(1, math.ceil(wait))} giây", f"{math.ceil(wait / 60)} phút"
    when = seconds if wait < 60 else minutes
    return f"Đăng nhập sai nhiều lần: hãy thử lại sau {when}."


async def logout(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    session = needs_session(request)
    fields = await form_fields(request, LOGOUT_FIELDS)
    if not same_token(session.csrf, fields.get("csrf")):
        raise Refusal(403, CSRF_REFUSED)
    console.sessions.end(session.id)
    log.info("console_logout", user=session.user.name)
    response = redirect("/dang-nhap")
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


def client_address(request: web.Request, proxies: Collection[str]) -> str | None:
    """Who is logging in: the peer, or, for a request from a trusted reverse proxy, the
    last X-Forwarded-For hop that is not one of the proxies (the hops before it are what
    the client itself claimed). Behind a proxy every peer is the proxy: keyed on it, one
    guesser's failures would hold out everyone who logs in with that name."""
    peer = request.remote
    if peer is None or peer not in proxies:
        return peer
    hops = [h.strip() for v in request.headers.getall("X-Forwarded-For", ()) for h in v.split(",")]
    for hop in reversed(hops):
        if hop and hop not in proxies:
            return hop
    return peer

