"""Kannel 1.4.5 on the load of e2e_mt.py: the same simulator, window and texts, side by side.

Why: a figure for our daemon means little without the gateway agencies would otherwise
install. Kannel gets what the daemon gets: one SMPP transceiver bind to the bundled
simulator (receipts at once, no TPS cap), the same window (`max-pending-submits`), the
same notices. Its intake is smsbox's sendsms HTTP interface, fed as fast as it answers by
a bounded number of concurrent keep-alive connections; every message asks for a delivery
report (`dlr-mask=3`: delivered or failed) on a `dlr-url` served by a small HTTP sink
here. The clock starts at the first sendsms request and stops when the N-th message has
a delivered (type 1) report and the simulator has every part (Kannel asks a receipt for
the first part only, so a report can come before its second part is out). Each run
starts simulator, bearerbox and smsbox afresh, from configuration generated into a temp
dir from the templates in bench/kannel/; the figure is the median of `--repeat` runs.

Stores: `memory` is Kannel's default (no store: a message queued in bearerbox is lost in
a crash); `spool` is `store-type = spool`, one file per queued message, the durable
comparison with the daemon's SQLite store. DLRs use Kannel's default internal storage.

Texts: `gsm7` is the daemon's result notice for SCT as it sends it (diacritics stripped,
one GSM-7 part); `ucs2` is e2e_mt.py's SMS job text with diacritics (`coding=2`: two
UCS-2 parts, concatenated). Kannel asks a receipt for the first part only.

    python bench/kannel.py [--messages 20000] [--window 10] [--text gsm7|ucs2]
                           [--store memory|spool] [--repeat 3]

Needs the Debian package: apt-get install -y kannel
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shlex
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from smscs import KINDS, Smsc, cpu_seconds, start_smsc

from tests.support.broker import free_port

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = Path(__file__).with_name("kannel")
GROUPS = ("core.conf", "smsc.conf", "smsbox.conf", "sendsms-user.conf")
INSTALL_HINT = "Kannel is not installed (no bearerbox/smsbox): apt-get install -y kannel"
HOST = "127.0.0.1"

# The daemon's default result notice for SCT (Sở Công Thương), diacritics stripped as that
# agency is configured: 131 characters, one GSM-7 part.
GSM7_TEXT = (
    "Thong bao: Ho so cua quy Ong/Ba (01{n:08d}) da duoc giai quyet xong. "
    "Moi Ong/Ba den Bo phan Mot cua So Cong Thuong de nhan ket qua"
)
# e2e_mt.py's UCS2_TEXT: 111 characters with diacritics, two UCS-2 parts (67 + 44).
UCS2_TEXT = (
    "Hồ sơ {n:010d} đã có kết quả. Mời ông/bà đến Bộ phận Một cửa Sở Công Thương "
    "nhận kết quả, mang theo giấy hẹn."
)
# text kind -> (template, extra sendsms parameters, submit_sm per message)
TEXTS: dict[str, tuple[str, dict[str, str], int]] = {
    "gsm7": (GSM7_TEXT, {}, 1),
    "ucs2": (UCS2_TEXT, {"coding": "2", "charset": "UTF-8"}, 2),
}
STORES = ("memory", "spool")

DLR_DELIVERED = 1  # the report type Kannel puts in the dlr-url's %d (2 is failed)
PROGRESS_EVERY = 10.0  # seconds between progress lines while waiting
STALL_TIMEOUT = 60.0  # no new sendsms accepted and no new report for this long: give up
START_TIMEOUT = 30.0  # for the boxes to come up, bind and connect
STOP_TIMEOUT = 10.0  # SIGTERM, then SIGKILL after this long


# -- processes -----------------------------------------------------------------------


def find_kannel() -> tuple[str, str]:
    """bearerbox and smsbox; Debian puts them in /usr/sbin, often not in a user's PATH."""
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
    bearerbox, smsbox = shutil.which("bearerbox", path=path), shutil.which("smsbox", path=path)
    if bearerbox is None or smsbox is None:
        raise SystemExit(INSTALL_HINT)
    return bearerbox, smsbox


async def start(argv: list[str], log: Path, **kwargs: Any) -> asyncio.subprocess.Process:
    """A child in a session of its own, so that Ctrl-C reaches only us and we stop it in order."""
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out,
            start_new_session=True, **kwargs,
        )  # fmt: skip


async def stop(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM (Kannel shuts down cleanly), SIGKILL if it is not gone in STOP_TIMEOUT."""
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), STOP_TIMEOUT)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"({path} unreadable)"


# -- configuration -------------------------------------------------------------------


@dataclass(frozen=True)
class Ports:
    smsc: int
    admin: int = field(default_factory=free_port)
    smsbox: int = field(default_factory=free_port)
    sendsms: int = field(default_factory=free_port)
    sink: int = field(default_factory=free_port)


def write_config(work: Path, ports: Ports, *, window: int, store: str, log_level: int) -> Path:
    """bench/kannel/*.conf filled in, as one kannel.conf that both boxes read."""
    if store == "spool":
        (work / "spool").mkdir()
        store_lines = f'store-type = spool\nstore-location = "{work / "spool"}"'
    else:
        store_lines = "# (no store-location: Kannel's default, queued messages in memory only)"
    values = {
        "work": work,
        "log_level": log_level,
        "admin_port": ports.admin,
        "admin_password": "bench",
        "smsbox_port": ports.smsbox,
        "store": store_lines,
        "smsc_port": ports.smsc,
        "system_id": "motcua",
        "password": "secret",
        "window": window,
        # bit 1: submit_sm_resp ids in hex; bit 2 clear: receipt ids in decimal. That is the
        # simulator's default (--response-id-format hex, --receipt-id-format decimal).
        "msg_id_type": "0x01",
        "sendsms_port": ports.sendsms,
        "user": "bench",
        "user_password": "bench",
    }
    parts = [Template((TEMPLATES / name).read_text()).substitute(values) for name in GROUPS]
    config = work / "kannel.conf"
    config.write_text("\n".join(parts))
    return config


# -- tiny HTTP, both sides -----------------------------------------------------------


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    """(status, server closes the connection, body) of one HTTP/1.x response."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionResetError("connection closed before a response")
    version, code = status_line.split(b" ", 2)[:2]
    length, close = await read_headers(reader, close=version == b"HTTP/1.0")
    body = await reader.readexactly(length) if length is not None else await reader.read()
    return int(code), close or length is None, body


async def read_headers(reader: asyncio.StreamReader, *, close: bool) -> tuple[int | None, bool]:
    """(Content-Length or None, connection to be closed) from the header lines; `close` is
    what the HTTP version implies when no Connection header says otherwise."""
    length = None
    while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection":
            close = value.strip().lower() == b"close"
    return length, close


async def http_get(port: int, target: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """One GET on its own connection: the admin status page and the simulator's stats."""

    async def get() -> tuple[int, bytes]:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            writer.write(
                f"GET {target} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode()
            )
            status, _close, body = await read_response(reader)
            return status, body
        finally:
            writer.close()

    return await asyncio.wait_for(get(), timeout)


class DlrSink:
    """The dlr-url server: counts reports by type, and messages with a delivered report.

    smsbox fetches dlr-urls with HTTP/1.1 keep-alive, so a connection serves many requests.
    A message counts once however many delivered reports it gets (duplicates are counted
    apart, as `duplicates`).
    """

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.delivered: set[int] = set()
        self.reports: Counter[int] = Counter()
        self.duplicates = 0
        self.done = asyncio.Event()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while request_line := await reader.readline():
                length, close = await read_headers(
                    reader, close=request_line.rstrip().endswith(b"HTTP/1.0")
                )
                if length:
                    await reader.readexactly(length)
                self.record(request_line.split(b" ")[1].decode())
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
                    + (b"Connection: close\r\n" if close else b"")
                    + b"\r\n"
                )
                if close:
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    def record(self, target: str) -> None:
        query = parse_qs(urlsplit(target).query)
        kind = int(query.get("type", ["-1"])[0])
        self.reports[kind] += 1
        if kind == DLR_DELIVERED:
            message = int(query["id"][0])
            if message in self.delivered:
                self.duplicates += 1
            self.delivered.add(message)
            if len(self.delivered) >= self.expected:
                self.done.set()


# -- feeding smsbox ------------------------------------------------------------------


@dataclass
class Feed:
    """What the sendsms side saw: accepted requests, refusals by status, reconnects."""

    accepted: int = 0
    refused: Counter[int] = field(default_factory=Counter)
    reconnects: int = 0
    finished_at: float | None = None


def sendsms_requests(messages: int, text: str, port: int, sink: int) -> list[bytes]:
    """Every GET request, built before the clock starts (as e2e_mt.py builds its payloads)."""
    template, extra, _parts = TEXTS[text]
    requests = []
    for n in range(messages):
        query = urlencode(
            {
                "username": "bench",
                "password": "bench",
                "from": "MotcuaSMS",
                "to": f"849{n % 100_000_000:08d}",
                "text": template.format(n=n),
                **extra,
                "dlr-mask": "3",
                # %d: Kannel puts the report type there (1 delivered, 2 failed).
                "dlr-url": f"http://{HOST}:{sink}/dlr?id={n}&type=%d",
            },
            quote_via=quote,
        )
        requests.append(
            f"GET /cgi-bin/sendsms?{query} HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode()
        )
    return requests


async def feed_worker(port: int, requests: list[bytes], cursor: Iterator[int], feed: Feed) -> None:
    """Send requests from the shared cursor one at a time on a keep-alive connection.

    503 (smsbox's temporary failure, e.g. a bearerbox queue limit) is retried after a
    pause; any other answer but 202 is a configuration error and ends the run.
    """
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    try:
        for n in cursor:
            while True:
                if writer is None or reader is None:
                    reader, writer = await asyncio.open_connection(HOST, port)
                try:
                    writer.write(requests[n])
                    status, close, body = await read_response(reader)
                except (ConnectionError, asyncio.IncompleteReadError):
                    # Rare; the request may have been taken, so the message may go twice
                    # (the sink counts it once).
                    writer.close()
                    reader = writer = None
                    feed.reconnects += 1
                    await asyncio.sleep(0.05)
                    continue
                if close:
                    writer.close()
                    reader = writer = None
                if status == 202:
                    feed.accepted += 1
                    break
                feed.refused[status] += 1
                if status != 503:
                    raise RuntimeError(f"sendsms answered {status}: {body[:200]!r}")
                await asyncio.sleep(0.1)
    finally:
        if writer is not None:
            writer.close()


async def feed_all(port: int, requests: list[bytes], connections: int, feed: Feed) -> None:
    cursor = iter(range(len(requests)))
    await asyncio.gather(*(feed_worker(port, requests, cursor, feed) for _ in range(connections)))
    feed.finished_at = time.perf_counter()


# -- one run -------------------------------------------------------------------------


async def wait_port(
    port: int, procs: dict[str, asyncio.subprocess.Process], work: Path, what: str
) -> None:
    """Until `port` accepts connections: smsbox panics if bearerbox is not listening yet."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        check_alive(procs, work)
        try:
            _reader, writer = await asyncio.open_connection(HOST, port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{what} does not listen on {port} after {START_TIMEOUT:.0f} s ({work})")


def check_alive(procs: dict[str, asyncio.subprocess.Process], work: Path) -> None:
    for name, proc in procs.items():
        if proc.returncode is not None:
            raise RuntimeError(f"{name} exited ({proc.returncode}):\n{tail(work / f'{name}.out')}")


async def wait_ready(
    ports: Ports, procs: dict[str, asyncio.subprocess.Process], work: Path
) -> None:
    """Until the SMSC is online and smsbox connected, as bearerbox's status page says."""
    deadline = time.monotonic() + START_TIMEOUT
    page = b""
    while time.monotonic() < deadline:
        check_alive(procs, work)
        with contextlib.suppress(OSError, TimeoutError, ValueError):
            _status, page = await http_get(ports.admin, "/status.txt?password=bench")
            smsc_online = b"(online" in page
            smsbox_connected = b"smsbox:" in page.split(b"SMSC connections:")[0]
            if smsc_online and smsbox_connected:
                return
        await asyncio.sleep(0.2)
    status_page = page.decode(errors="replace")
    raise RuntimeError(
        f"Kannel not ready after {START_TIMEOUT:.0f} s (logs: {work}):\n{status_page}"
    )


async def one_run(
    messages: int,
    window: int,
    text: str,
    store: str,
    connections: int,
    log_level: int,
    keep: bool,
    smsc_kind: str = "bundled",
) -> dict[str, Any]:
    bearerbox, smsbox = find_kannel()
    work = Path(tempfile.mkdtemp(prefix="motcua-kannel-"))
    env = {**os.environ, "MOTCUA_SMS_LOG_FORMAT": "json"}
    procs: dict[str, asyncio.subprocess.Process] = {}
    smsc: Smsc | None = None
    feed, feeder = Feed(), None
    ok = False
    server: asyncio.Server | None = None
    try:
        smsc = await start_smsc(
            smsc_kind, stdin=asyncio.subprocess.DEVNULL, env=env, cwd=REPO,
            start_new_session=True,
        ) if smsc_kind == "bundled" else await start_smsc(smsc_kind)  # fmt: skip
        ports = Ports(smsc=smsc.port)
        config = write_config(work, ports, window=window, store=store, log_level=log_level)
        sink = DlrSink(messages)
        server = await asyncio.start_server(sink.serve, HOST, ports.sink)
        # `-v 3`: errors only on the console; the log files get `log-level`.
        procs["bearerbox"] = await start(
            [bearerbox, "-v", "3", str(config)], work / "bearerbox.out"
        )
        await wait_port(ports.smsbox, procs, work, "bearerbox")
        procs["smsbox"] = await start([smsbox, "-v", "3", str(config)], work / "smsbox.out")
        await wait_ready(ports, procs, work)

        requests = sendsms_requests(messages, text, ports.sendsms, ports.sink)
        boxes = (procs["bearerbox"].pid, procs["smsbox"].pid)
        cpu_before = (sum(cpu_seconds(pid) for pid in boxes), smsc.cpu())
        start_at = time.perf_counter()
        feeder = asyncio.create_task(feed_all(ports.sendsms, requests, connections, feed))
        last, last_change = (-1, -1), start_at
        while not sink.done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sink.done.wait(), PROGRESS_EVERY)
            if sink.done.is_set():
                break
            if feeder.done():
                await feeder  # raises what ended the feed early, if anything did
            check_alive(procs, work)
            now = time.perf_counter()
            print(
                f"... {now - start_at:.0f} s: {feed.accepted} accepted by smsbox, "
                f"{len(sink.delivered)} delivered, reports {dict(sink.reports)}, "
                f"refused {dict(feed.refused)} (logs: {work})",
                file=sys.stderr,
            )
            if (feed.accepted, len(sink.delivered)) != last:
                last, last_change = (feed.accepted, len(sink.delivered)), now
            elif now - last_change > STALL_TIMEOUT:
                raise RuntimeError(f"no progress for {STALL_TIMEOUT:.0f} s; logs: {work}")
        # Kannel asks a receipt for the first part of a long message only, so the N-th
        # report can come before the last second parts are out: the run ends when they are.
        expected_submits = messages * TEXTS[text][2]
        submits = await smsc.submits()
        deadline = time.perf_counter() + STALL_TIMEOUT
        while submits < expected_submits:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{submits} of {expected_submits} submit_sm; {work}")
            await asyncio.sleep(0.005)
            submits = await smsc.submits()
        total = time.perf_counter() - start_at
        kannel_cpu = sum(cpu_seconds(pid) for pid in boxes) - cpu_before[0]
        sim_cpu = smsc.cpu() - cpu_before[1]
        await feeder
        ok = True
        return {
            "rate": messages / total,
            "seconds": total,
            "accepted_in": (feed.finished_at or start_at) - start_at,
            "submits": submits,
            "kannel_cpu": kannel_cpu,
            "sim_cpu": sim_cpu,
            "reports": dict(sink.reports),
            "duplicates": sink.duplicates,
            "refused": dict(feed.refused),
            "reconnects": feed.reconnects,
        }
    finally:
        if feeder is not None:
            feeder.cancel()
            await asyncio.gather(feeder, return_exceptions=True)
        for name in ("smsbox", "bearerbox"):
            if name in procs:
                await stop(procs[name])
        if smsc is not None:
            await smsc.stop()
        if server is not None:
            server.close()
        if ok and not keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"Kannel configuration and logs kept in {work}", file=sys.stderr)


async def measure(
    *,
    messages: int = 20_000,
    window: int = 10,
    text: str = "gsm7",
    store: str = "memory",
    repeat: int = 3,
    connections: int = 64,
    log_level: int = 1,
    keep: bool = False,
    smsc: str = "bundled",
) -> dict[str, Any]:
    """Median of `repeat` runs, each on a fresh SMSC, bearerbox and smsbox."""
    if text not in TEXTS or store not in STORES:
        raise ValueError(f"text in {sorted(TEXTS)}, store in {STORES}")
    runs = [
        await one_run(messages, window, text, store, connections, log_level, keep, smsc)
        for _ in range(repeat)
    ]
    last = runs[-1]
    expected = messages * TEXTS[text][2]
    if last["submits"] != expected:
        print(f"warning: {last['submits']} submit_sm, expected {expected}", file=sys.stderr)
    for run in runs:
        if set(run["reports"]) != {DLR_DELIVERED} or run["duplicates"]:
            print(
                f"warning: reports by type {run['reports']} (1 delivered, 2 failed), "
                f"{run['duplicates']} duplicate delivered reports",
                file=sys.stderr,
            )
    return {
        "rate": statistics.median(r["rate"] for r in runs),
        "rates": [round(r["rate"]) for r in runs],
        "messages": messages,
        "window": window,
        "text": text,
        "store": store,
        "submits": last["submits"],
        "parts_per_message": last["submits"] / messages,
        "smsc": smsc,
        # bearerbox + smsbox, per message (ms), and the SMSC's share of one core.
        "kannel_cpu_ms": statistics.median(1000 * r["kannel_cpu"] / messages for r in runs),
        "kannel_cpu_mss": [round(1000 * r["kannel_cpu"] / messages, 3) for r in runs],
        "sim_cpu_share": statistics.median(r["sim_cpu"] / r["seconds"] for r in runs),
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--window", type=int, default=10, help="max-pending-submits (10 or 50)")
    parser.add_argument("--text", choices=sorted(TEXTS), default="gsm7")
    parser.add_argument("--store", choices=STORES, default="memory")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--connections", type=int, default=64, help="concurrent sendsms HTTP connections"
    )
    parser.add_argument(
        "--log-level", type=int, default=1, help="Kannel log-level (0 debug .. 4 panic)"
    )
    parser.add_argument("--keep", action="store_true", help="keep configs and logs of each run")
    parser.add_argument("--smsc", choices=KINDS, default="bundled")
    args = parser.parse_args()
    print(f"$ python {' '.join(shlex.quote(a) for a in sys.argv)}", flush=True)

    async def run() -> dict[str, Any]:
        # SIGTERM as Ctrl-C: cancel, so that the finally blocks stop the children (which
        # are in sessions of their own and would outlive us).
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        return await measure(
            messages=args.messages, window=args.window, text=args.text, store=args.store,
            repeat=args.repeat, connections=args.connections, log_level=args.log_level,
            keep=args.keep, smsc=args.smsc,
        )  # fmt: skip

    try:
        got = asyncio.run(run())
    except (KeyboardInterrupt, asyncio.CancelledError):
        raise SystemExit("interrupted; simulator, bearerbox and smsbox stopped") from None
    last = got["runs"][-1]
    print(
        f"Kannel 1.4.5, {args.messages} messages ({args.text}, "
        f"{got['parts_per_message']:.2f} submit_sm each), window {args.window}, "
        f"store {args.store}, {args.smsc} SMSC, {os.cpu_count()} cores, load "
        f"{os.getloadavg()[0]:.2f}: {got['rate']:,.0f} msg/s end-to-end "
        f"(median of {args.repeat}: {got['rates']}); bearerbox + smsbox CPU "
        f"{got['kannel_cpu_ms']:.3f} ms per message {got['kannel_cpu_mss']}; "
        f"SMSC {got['sim_cpu_share']:.0%} of one core"
    )
    print(
        f"last run: {last['seconds']:.1f} s, sendsms all accepted after "
        f"{last['accepted_in']:.1f} s; SMSC: {last['submits']} submit_sm; "
        f"DLR reports by type {last['reports']}, sendsms refusals {last['refused']}"
    )


if __name__ == "__main__":
    main()
