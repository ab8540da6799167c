"""The console in-process over a store filled through the store's own write API, and a
client that logs in as a browser does (the login page's CSRF token, then the form)."""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp

from gateway.console.app import server
from gateway.console.auth import hash_password
from gateway.console.context import Console
from gateway.console.reading import StoreFigures
from gateway.settings.console import ConsoleConfig, ConsoleUser
from gateway.store import figures_schema
from gateway.store.schema import MIGRATIONS
from gateway.store.store import Store
from tests.support.clock import Clock, at
from tests.support.figures import PRICE, TZ, dossier, figure_composer, notice, settle

DAY = date(2026, 11, 23)
NAMES: Mapping[str, str] = {"SCT": "Sở Công Thương", "STP": "Sở Tư pháp"}
PASSWORD = "mật khẩu đủ dài"
SUPERVISOR = ConsoleUser(name="giamsat", role="supervisor", password_hash=hash_password(PASSWORD))
STP_USER = ConsoleUser(
    name="stp", role="agency", agency="STP", password_hash=SUPERVISOR.password_hash
)
USERS = {u.name: u for u in (SUPERVISOR, STP_USER)}
LOGIN_TOKEN = re.compile(r'name="csrf" value="([^"]+)"')


async def seed(store: Store, clock: Clock) -> None:
    """On DAY: SCT's 1.001 resolves three dossiers and delivers one notice (one to a
    landline, one undeliverable), its 1.002 one of one; STP's 2.001 one of one, plus a
    dossier received only."""
    composer = figure_composer(clock)
    plan = [
        ("000001", "SCT", "1.001", "Cấp giấy phép", "0905123456", "delivered"),
        ("000002", "SCT", "1.001", "Cấp giấy phép", "02363822123", None),
        ("000003", "SCT", "1.001", "Cấp giấy phép", "0905123457", "undeliverable"),
        ("000004", "SCT", "1.002", "Đăng ký kinh doanh", "0905123458", "delivered"),
        ("000005", "STP", "2.001", "Cấp phiếu lý lịch tư pháp", "0905123459", "delivered"),
    ]
    for receipt, agency, code, name, phone, receipt_state in plan:
        row = dossier(
            receipt, agency=agency, status="result_ready", code=code, procedure=name, phone=phone
        )
        await notice(store, composer, row, f"ev-{receipt}")
        if receipt_state is not None:
            await settle(store, clock, f"ev-{receipt}", receipt_state)
    await store.dossiers.record_intake(
        dossiers=[
            dossier("000006", agency="STP", code="2.001", procedure="Cấp phiếu lý lịch tư pháp")
        ]
    )


@dataclass
class RunningConsole:
    url: str
    console: Console
    clock: Clock


@contextlib.asynccontextmanager
async def running_console(
    tmp_path: Path,
    *,
    users: Mapping[str, ConsoleUser] = USERS,
    zone: ZoneInfo = TZ,
    seeding: Callable[[Store, Clock], Awaitable[None]] = seed,
    zns_price: int = 0,
    **settings: object,
) -> AsyncIterator[RunningConsole]:
    """A store seeded by `seeding` and the console over it on a free port, its clock at
    DAY 10:00; `zone` is the one the console reads the figures in, at PRICE a segment
    and `zns_price` a ZNS notice delivered."""
    clock = Clock(at(10))
    async with Store.open(tmp_path / "gateway.db", clock=clock) as store:
        await seeding(store, clock)
        config = ConsoleConfig(port=0, users=users, **settings)  # type: ignore[arg-type]
        figures = StoreFigures(tmp_path / "gateway.db", zone, PRICE, zns_price)
        console = Console(config, figures, dict(NAMES), zone, clock)
        async with server(console, "127.0.0.1", 0) as listening:
            yield RunningConsole(f"http://127.0.0.1:{listening.port}", console, clock)


def store_before_figures(path: Path) -> None:
    """A store of the schema before the figures (one the daemon has not upgraded yet),
    made by the store's own migrations up to that step."""
    previous = MIGRATIONS.index(figures_schema.MIGRATION)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for number, script in enumerate(MIGRATIONS[:previous], start=1):
            conn.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")
    finally:
        conn.close()


@contextlib.asynccontextmanager
async def console_reading(path: Path) -> AsyncIterator[RunningConsole]:
    """The console over the store at `path` opened read-only, as `motcua-sms console`
    opens it."""
    clock = Clock(at(10))
    config = ConsoleConfig(port=0, users=USERS)
    console = Console(config, StoreFigures(path, TZ, PRICE), dict(NAMES), TZ, clock)
    async with server(console, "127.0.0.1", 0) as listening:
        yield RunningConsole(f"http://127.0.0.1:{listening.port}", console, clock)


@contextlib.asynccontextmanager
async def client(
    url: str, headers: Mapping[str, str] | None = None
) -> AsyncIterator[aiohttp.ClientSession]:
    """A client keeping cookies for an IP address (aiohttp's jar refuses them by default)
    and following no redirect on its own; `headers` go with every request (what a
    reverse proxy adds, say)."""
    jar = aiohttp.CookieJar(unsafe=True)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(
        url, cookie_jar=jar, timeout=timeout, headers=headers
    ) as session:
        yield session


async def login_token(session: aiohttp.ClientSession) -> str:
    async with session.get("/dang-nhap") as answer:
        match = LOGIN_TOKEN.search(await answer.text())
    assert match is not None
    return match[1]


async def log_in(
    session: aiohttp.ClientSession, user: str = SUPERVISOR.name, password: str = PASSWORD
) -> aiohttp.ClientResponse:
    """The login form as a browser sends it; the answer (303 to / when it worked)."""
    token = await login_token(session)
    form = {"csrf": token, "next": "/", "user": user, "password": password}
    async with session.post("/dang-nhap", data=form, allow_redirects=False) as answer:
        await answer.read()
        return answer
