"""Console page time: 20 supervisors logged in at once, each opening the console's pages.

The console runs as `motcua-sms console -c FILE`, its own process, as under systemd, over a
store filled beforehand through the store's own write API (not timed): a year of three
agencies with 20 procedures each, every day's dossiers resolved with a result notice, of
which most are delivered (submitted, then a DELIVRD receipt), some go to a landline or to a
number too short (refused at intake) and some are UNDELIV. Each of `--users` clients (aiohttp)
logs in through the login form, then opens, `--rounds` times, the overview, the procedure
table and the failed notices of the last 30 days, and the procedure table of the whole
year; every request's time from sending to the last byte is kept. Printed: p50 and p99 per
page and over all, with the command that produced them.

    python bench/console_pages.py [--users 20] [--rounds 10] [--per-day 60] [--store FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shlex
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.app import composer_settings
from gateway.compose.composer import Composer
from gateway.console.auth import hash_password
from gateway.domain.dossier import DossierRow
from gateway.domain.message import Outcome, PartResult
from gateway.settings.config import parse_config
from gateway.store.store import Store
from tests.support.broker import free_port

TZ_NAME = "Asia/Ho_Chi_Minh"
LAST_DAY = date(2026, 11, 30)
AGENCIES = ("SCT", "STP", "SNV")
PROCEDURES = 20
PASSWORD = "mật khẩu đo tốc độ"
CONFIG = """\
store: {{path: {db}}}
schedule: {{quiet_hours: "off"}}
agencies:
  SCT: {{name: Sở Công Thương}}
  STP: {{name: Sở Tư pháp, diacritics: keep}}
  SNV: {{name: Sở Nội vụ}}
console:
  port: {port}
  users:
    giamsat: {{role: supervisor, password_hash: "{digest}"}}
"""


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _phone(n: int) -> str:
    if n % 17 == 0:
        return "02363822123"  # a landline: refused at intake
    if n % 29 == 0:
        return "09051"  # too short: refused at intake
    return f"090{n % 10_000_000:07d}"


async def fill(db: Path, config_text: str, days: int, per_day: int) -> int:
    """The year's dossiers, notices and outcomes, one day at a time; messages written."""
    config = parse_config(config_text, env={"MOTCUA_SMS_SMPP_PASSWORD": "x"})
    config = replace(config, schedule=replace(config.schedule, quiet_hours=None))
    clock = Clock()
    composer = Composer(composer_settings(config), clock=clock)
    n = 0
    async with Store.open(db, clock=clock) as store:
        for back in range(days, 0, -1):
            day = LAST_DAY - timedelta(days=back - 1)
            noon = datetime.combine(day, datetime.min.time(), config.tz) + timedelta(hours=10)
            clock.now = noon.timestamp()
            rows, notices = [], []
            for _ in range(per_day):
                n += 1
                agency = AGENCIES[n % len(AGENCIES)]
                code = f"{AGENCIES.index(agency) + 1}.{n % PROCEDURES:03d}"
                row = DossierRow(
                    receipt_key=f"R{n:09d}", receipt_no=f"R{n:09d}", agency=agency,
                    procedure=f"Thủ tục {code}", procedure_code=code, phone=_phone(n),
                    step="Trả kết quả", status="result_ready", due_date=None, same_day=False,
                    occurred_at=noon.isoformat(), finished_on=None,
                )  # fmt: skip
                rows.append(row)
                notices.append(composer.notice("result", row, event_id=f"e{n}", ref=f"e{n}"))
            await store.dossiers.record_intake(dossiers=rows, messages=notices)
            queued = await store.outbox.due(per_day * 2)
            parts = {m.id: PartResult(m.id, 1, m.ref, frozenset({f"s:{m.ref}"})) for m in queued}
            await store.outbox.record_outcomes(
                [Outcome(m, "submitted", 1, clock.now, segments=1, parts=[parts[m.id]])
                 for m in queued]
            )  # fmt: skip
            await store.receipts.record_receipts(
                [(parts[m.id].keys, "undeliverable" if i % 23 == 0 else "delivered", None)
                 for i, m in enumerate(queued)]
            )  # fmt: skip
    return n


async def log_in(session: aiohttp.ClientSession) -> None:
    async with session.get("/dang-nhap") as answer:
        token = re.search(r'name="csrf" value="([^"]+)"', await answer.text())[1]
    form = {"csrf": token, "next": "/", "user": "giamsat", "password": PASSWORD}
    async with session.post("/dang-nhap", data=form, allow_redirects=False) as answer:
        assert answer.status == 303, answer.status


async def user(
    url: str,
    pages: dict[str, str],
    rounds: int,
    times: dict[str, list[float]],
    everyone_in: asyncio.Barrier,
) -> None:
    """One supervisor: logs in, waits until every other has (logins are not timed), then
    opens each page `rounds` times, one request after the other."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(url, cookie_jar=jar) as session:
        await log_in(session)
        await everyone_in.wait()
        for _ in range(rounds):
            for name, path in pages.items():
                start = time.perf_counter()
                async with session.get(path) as answer:
                    await answer.read()
                    assert answer.status == 200, (path, answer.status)
                times[name].append(time.perf_counter() - start)


async def listening(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(url + "/dang-nhap") as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit(f"the console did not start within {timeout:g} s")


def ms(values: list[float], q: float) -> str:
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.1f}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--per-day", type=int, default=60)
    parser.add_argument(
        "--store", type=Path, help="a store this script filled before (kept): not filled again"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        db, port = args.store or Path(tmp) / "gateway.db", free_port()
        text = CONFIG.format(db=db, port=port, digest=hash_password(PASSWORD))
        (Path(tmp) / "gateway.yaml").write_text(text, encoding="utf-8")
        if not db.exists():
            started = time.perf_counter()
            dossiers = await fill(db, text, args.days, args.per_day)
            print(f"store: {dossiers:,} dossiers and notices over {args.days} days, "
                  f"filled in {time.perf_counter() - started:.0f} s (not timed)")  # fmt: skip
        console = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway.cli", "console", "-c", str(Path(tmp) / "gateway.yaml"),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            env={**os.environ, "MOTCUA_SMS_LOG_FORMAT": "json"},
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            await listening(url)
            month = f"from={LAST_DAY - timedelta(days=29)}&to={LAST_DAY}"
            year = f"from={LAST_DAY - timedelta(days=args.days - 1)}&to={LAST_DAY}"
            pages = {
                "overview, 30 days": f"/?{month}",
                "procedures, 30 days": f"/thu-tuc?{month}",
                "failed notices, 30 days": f"/thong-bao-loi?{month}",
                "procedures, whole year": f"/thu-tuc?{year}&sort=ratio",
            }
            times: dict[str, list[float]] = {name: [] for name in pages}
            started = time.perf_counter()
            everyone_in = asyncio.Barrier(args.users)
            await asyncio.gather(
                *(user(url, pages, args.rounds, times, everyone_in) for _ in range(args.users))
            )
            wall = time.perf_counter() - started
        finally:
            console.terminate()
            await console.wait()
    print("$ " + shlex.join([sys.executable, *sys.argv]))
    print(f"{args.users} users logged in at once, {args.rounds} rounds each, {wall:.1f} s")
    print(f"{'page':<28} {'requests':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for name, values in times.items():
        print(f"{name:<28} {len(values):>8} {ms(values, 0.5):>8} {ms(values, 0.99):>8}")
    every = [v for values in times.values() for v in values]
    print(f"{'all pages':<28} {len(every):>8} {ms(every, 0.5):>8} {ms(every, 0.99):>8}")
    print(f"mean {statistics.mean(every) * 1000:.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
