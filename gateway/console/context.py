"""What every console handler shares: the figures, the users and their sessions, and the
few answers they all give (an HTML page, a refusal, the login form).

The session cookie holds only a random id (`auth.Sessions`); the login form's CSRF token
is a second random value set as a cookie with the form and compared with the form's field
(a site elsewhere can make a browser post, but cannot read or set this site's cookie).
Both cookies are HttpOnly and SameSite=Strict.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from hmac import compare_digest
from zoneinfo import ZoneInfo

from aiohttp import web

from gateway.console.auth import LoginBrake, Session, Sessions
from gateway.console.gate import GatedFigures, ReadGate
from gateway.console.pages import login_page, refusal_page
from gateway.console.query import Refusal
from gateway.console.reading import FigureReads
from gateway.settings.console import ConsoleConfig

SESSION_COOKIE = "motcua_phien"
LOGIN_COOKIE = "motcua_dang_nhap"
HTML = "text/html"

EXPIRED = "Phiên đăng nhập đã hết hạn hoặc không hợp lệ: mời đăng nhập lại."
CSRF_REFUSED = "Biểu mẫu đã hết hạn hoặc không gửi từ trang này: hãy tải lại trang rồi gửi lại."


@dataclass(slots=True)
class Console:
    """The console's state, one per process."""

    settings: ConsoleConfig
    figures: FigureReads
    agencies: Mapping[str, str]  # code -> name, in the configuration's order
    zone: ZoneInfo
    clock: Callable[[], float] = time.time
    sessions: Sessions = field(init=False)
    brake: LoginBrake = field(init=False)
    gate: ReadGate = field(init=False)

    def __post_init__(self) -> None:
        # Every read of the pages goes through the one gate of the process (`gate`).
        self.gate = ReadGate(self.settings.reads_at_once, self.settings.reads_queued)
        self.figures = GatedFigures(self.figures, self.gate)
        self.sessions = Sessions(self.settings.session_minutes * 60.0, clock=self.clock)
        self.brake = LoginBrake(
            self.settings.login_attempts, self.settings.login_window_minutes * 60.0
        )

    def today(self) -> date:
        return datetime.fromtimestamp(self.clock(), self.zone).date()

    def session_of(self, request: web.Request) -> Session | None:
        return self.sessions.find(request.cookies.get(SESSION_COOKIE), self.settings.users)

    def set_cookie(self, response: web.StreamResponse, name: str, value: str) -> None:
        response.set_cookie(
            name,
            value,
            path="/",
            httponly=True,
            samesite="Strict",
            secure=self.settings.secure_cookie,
        )

    def login(
        self, status: int = 200, message: str | None = None, next_path: str = "/"
    ) -> web.Response:
        """The login form (answering 401 for a page that needed a session), with a fresh
        CSRF token in the form and in its cookie."""
        token = secrets.token_urlsafe(32)
        response = html(login_page(token, message=message, next_path=next_path), status)
        self.set_cookie(response, LOGIN_COOKIE, token)
        return response


CONSOLE = web.AppKey("console", Console)


def html(page: str, status: int = 200) -> web.Response:
    return web.Response(status=status, text=page, content_type=HTML, charset="utf-8")


def redirect(location: str) -> web.Response:
    """303 to `location` (a returned answer, so the cookies set on it go with it)."""
    return web.Response(status=303, headers={"Location": location})


def refusal(status: int, message: str, session: Session | None) -> web.Response:
    return html(
        refusal_page(
            status,
            message,
            user=session.user if session else None,
            csrf=session.csrf if session else None,
        ),
        status,
    )


def same_token(expected: str | None, given: str | None) -> bool:
    """Whether a form's CSRF token is the one expected (in constant time)."""
    if not expected or not given:
        return False
    return compare_digest(expected.encode(), given.encode())


class LoginNeeded(Exception):
    """A page asked for without a live session: answered with 401 and the login form."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def needs_session(request: web.Request) -> Session:
    """The request's session; LoginNeeded without one (none, forged, expired)."""
    session = request.app[CONSOLE].session_of(request)
    if session is None:
        raise LoginNeeded(local_path(request.path_qs))
    return session


# A plain path of this site: "/" then URL characters only (RFC 3986's unreserved, sub-
# delims, ':', '@', '/', '?' and %-escapes), never "//" or "/\\" first (another host).
# Anything else, a tab or a control character above all, is not followed: browsers drop
# tabs and newlines from a URL ("/\t/evil" is "//evil"), and aiohttp refuses a Location
# holding one (the login would succeed and its answer be lost).
_LOCAL_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*")


def local_path(path: str | None) -> str:
    """`path` if it is a plain path of this site's own (a next= after login), else "/"."""
    if not path or not _LOCAL_PATH.fullmatch(path):
        return "/"
    return path


WRONG_HOST = (
    "Địa chỉ này không phải của bảng điều khiển: hãy mở bảng điều khiển bằng tên máy chủ "
    "đã cấu hình (console.host_names)."
)


def host_allowed(settings: ConsoleConfig, request: web.Request) -> bool:
    """Whether the request's Host names this console: any IP address, `localhost`, the
    configured listening host or one of `console.host_names`. A name rebound by a site
    elsewhere to this address (DNS rebinding) is none of these: its pages cannot read the
    console through a browser on the same network."""
    try:
        host = (request.url.host or "").rstrip(".").lower()
    except ValueError:
        return False
    if not host:
        return False
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        pass
    return host in {"localhost", settings.host.lower(), *settings.host_names}


def refuse_query(request: web.Request) -> None:
    """A form handler takes its fields from the body; anything in its query is refused."""
    if request.query:
        raise Refusal(400, "Biểu mẫu này không nhận tham số trên địa chỉ.")
