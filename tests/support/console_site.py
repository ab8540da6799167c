"""The console as it runs in production, for the browser tests: the SMSC simulator, the
daemon and `motcua-sms console` each a process of its own, dossier events in over a real
mosquitto, receipts from the simulator, the console reading the store beside the daemon.

The events are of today (the daemon's clock is the machine's): the pages are asked for
the days around it, so the figures are the same at any hour and on any date.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from gateway.console.auth import hash_password
from gateway.store.figures import Figures
from gateway.store.store import Store
from tests.support.broker import free_port
from tests.support.daemon import (
    DAEMON_LOGS,
    dossier_event,
    http_get,
    publish,
    start_daemon,
    stop_daemon,
    write_daemon_config,
)
from tests.support.wait import eventually

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PASSWORD = "mật khẩu đủ dài"
SUPERVISOR, STP_USER = "giamsat", "stp"
AGENCIES = "  SCT:\n    name: Sở Công Thương\n  STP:\n    name: Sở Tư pháp\n"
# The simulator answers a number in this range with an UNDELIV receipt.
UNDELIVERABLE = "8490500*"
CHEMICALS = ("1.001", "Cấp giấy phép kinh doanh hóa chất")
PERMIT = ("1.002", "Cấp giấy chứng nhận đủ điều kiện an toàn thực phẩm")
RECORD = ("2.001", "Cấp phiếu lý lịch tư pháp")
# (n, agency, procedure, status, phone): what each dossier's notice meets.
PLAN: tuple[tuple[int, str, tuple[str, str], str, str], ...] = (
    (1, "SCT", CHEMICALS, "result_ready", "0905 123 456"),  # delivered
    (2, "SCT", CHEMICALS, "result_ready", "0905 123 457"),  # delivered
    (3, "SCT", CHEMICALS, "result_ready", "0905 123 458"),  # delivered
    (4, "SCT", CHEMICALS, "result_ready", "0905 000 111"),  # undeliverable
    (5, "SCT", CHEMICALS, "result_ready", "0236 3822 123"),  # a landline
    (6, "SCT", PERMIT, "result_ready", "0912 345 678"),  # delivered
    (7, "SCT", PERMIT, "received", "0912 345 679"),  # received only
    (8, "STP", RECORD, "result_ready", "0987 654 321"),  # delivered
    (9, "STP", RECORD, "result_ready", "09051"),  # not a number
)
# Per agency: (dossiers resolved, notices delivered, not delivered).
EXPECTED = {"SCT": (6, 4, 2), "STP": (2, 1, 1)}


@dataclass(frozen=True)
class Site:
    url: str
    since: date
    until: date
    config: Path
    db: Path

    def period(self) -> str:
        return f"from={self.since.isoformat()}&to={self.until.isoformat()}"


def _events(now: datetime) -> list[tuple[str, dict[str, object]]]:
    due = (now + timedelta(days=30)).date().isoformat()  # no apology run picks them
    events = []
    for n, agency, (code, name), status, phone in PLAN:
        event = dossier_event(
            n, status=status, agency=agency, phone=phone, procedure_code=code,
            procedure=name, due_date=due, occurred_at=now.isoformat(timespec="seconds"),
        )  # fmt: skip
        events.append((f"motcua/{agency}/dossier", event))
    return events


def console_section(port: int) -> str:
    """A `console:` section on `port` with SUPERVISOR and STP_USER, password PASSWORD."""
    digest = hash_password(PASSWORD)
    return (
        f"console:\n  port: {port}\n  users:\n"
        f'    {SUPERVISOR}:\n      role: supervisor\n      password_hash: "{digest}"\n'
        f'    {STP_USER}:\n      role: agency\n      agency: STP\n      password_hash: "{digest}"\n'
    )


async def _settled(db: Path) -> bool:
    async with Store.open(db, readonly=True) as store:
        today = datetime.now(TZ).date()
        rows = await Figures(store.database, TZ, 0).table(
            today - timedelta(days=1), today + timedelta(days=1), ("agency",)
        )
    found = {r.agency: (r.dossiers_resolved, r.notices_delivered, r.not_delivered_total)
             for r in rows}  # fmt: skip
    return found == EXPECTED


async def _process(*args: str, log_name: str) -> asyncio.subprocess.Process:
    DAEMON_LOGS.mkdir(exist_ok=True)
    log = (DAEMON_LOGS / f"{log_name}-{time.monotonic_ns()}.log").open("wb")
    with log:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway.cli", *args,
            stdout=asyncio.subprocess.DEVNULL, stderr=log,
            env={**os.environ, "MOTCUA_SMS_LOG_FORMAT": "json"},
        )  # fmt: skip


async def start_console(config: Path) -> asyncio.subprocess.Process:
    """`motcua-sms console -c config` as systemd runs it; its JSON logs beside the
    daemons' (the run's personal-data check reads them)."""
    return await _process("console", "-c", str(config), log_name="console")


async def listening(port: int, path: str) -> bool:
    try:
        status, _ = await http_get(port, path)
    except OSError:
        return False
    return status == 200


@contextlib.asynccontextmanager
async def console_site(broker_port: int, tmp_path: Path) -> AsyncIterator[Site]:
    """The three processes, the events sent and their outcomes settled in the store."""
    smsc_port, console_port, admin_port = free_port(), free_port(), free_port()
    config, db = tmp_path / "gateway.yaml", tmp_path / "gateway.db"
    write_daemon_config(
        config, broker_port=broker_port, smsc_port=smsc_port, db=db, agencies=AGENCIES,
        admin_port=admin_port,
    )  # fmt: skip
    with config.open("a", encoding="utf-8") as out:
        out.write(console_section(console_port))
    smsc = await _process(
        "smsc-sim", "--port", str(smsc_port), "--control-port", "0", "--receipt-delay", "0.05",
        "--rule", f"{UNDELIVERABLE}=undeliverable", log_name="smsc-sim",
    )  # fmt: skip
    daemon = console = None
    try:
        daemon = await start_daemon(config)
        # /healthz answers 200 once the daemon is bound and connected to the broker.
        await eventually(lambda: listening(admin_port, "/healthz"), timeout=30, poll=0.1)
        await asyncio.sleep(0.2)  # let the MQTT subscription settle (as running_gateway)
        await publish(broker_port, _events(datetime.now(TZ)))
        await eventually(lambda: _settled(db), timeout=60, poll=0.25)
        console = await start_console(config)
        await eventually(lambda: listening(console_port, "/dang-nhap"), timeout=30, poll=0.1)
        today = datetime.now(TZ).date()
        yield Site(
            url=f"http://127.0.0.1:{console_port}",
            since=today - timedelta(days=1),
            until=today + timedelta(days=1),
            config=config,
            db=db,
        )
    finally:
        for process in (console, daemon, smsc):
            if process is not None:
                await stop_daemon(process)
