"""One versus two daemons on one PostgreSQL, and one daemon on SQLite beside: end to end MT.

The load is e2e_mt.py's (its machinery, not a copy): N SMS jobs published on
motcua/STP/sms at QoS 1 → N `delivered` statuses on motcua/STP/status, the MQTT contract
of SPEC. Three set-ups, on the same N jobs:

- `sqlite`: one daemon on an SQLite file (the embedded default: the comparison);
- `pg1`: one daemon on PostgreSQL;
- `pg2`: two daemons on one PostgreSQL database and one broker, intake through a shared
  subscription (`mqtt.shared_group`), each daemon with its own name, client id and SMPP
  session to the one SMSC, claiming what it sends.

Runs alternate set-up by set-up (sqlite, pg1, pg2, sqlite, ...) so that all three see
the same machine; each run starts mosquitto, the SMSC and the daemons afresh, on a new
database (a copy of one the store migrated) or an empty file; the figures are medians of
`--repeat` runs. The PostgreSQL server is Debian's, started here by the tests' own code
(tests/support/postgres.py), once for the sitting, with the durability a production server
has (fsync and synchronous commit on), as the SQLite store's `synchronous=FULL` has.

Each run reports the CPU seconds, between the first publish and the last `delivered`, of
each daemon, of the PostgreSQL server (its whole process tree: postmaster, the daemons'
backends, WAL writer, checkpointer, autovacuum, those that ended meanwhile included), of
the SMSC, of mosquitto and of this process (publisher and status watcher), and the
machine's busy CPU less all of those: what else ran on the cores meanwhile. Which daemon
sent how much is each daemon's own count of submit_sm answered OK (its /metrics).

    python bench/ha.py [--messages 10000] [--smsc node|bundled] [--repeat 3]
                       [--modes sqlite pg1 pg2] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from common import start_broker, stop_processes  # noqa: E402
from e2e_mt import (  # noqa: E402
    TEXTS,
    Deliveries,
    daemon_config,
    daemon_ready,
    publish_all,
    start_daemon,
)
from pg_sampling import STATS_DELAY, WaitSampler, counters  # noqa: E402
from smscs import (  # noqa: E402
    KINDS,
    Smsc,
    cpu_seconds,
    machine_busy_seconds,
    start_smsc,
    thread_cpu_seconds,
    tree_cpu_seconds,
)

from tests.support.broker import free_port  # noqa: E402
from tests.support.postgres import PostgresServer, started_server  # noqa: E402

# 10,000: at the few hundred msg/s two cores give, a run lasts tens of seconds, so the
# start-up of the sessions and the last receipts' tail are a few % of it, and the nine runs
# of a sitting take minutes, not an hour; twice issue 19's fault burst (5,000).
MESSAGES = 10_000
GROUP = "bench"  # mqtt.shared_group of the two daemons
GIVE_UP = 900.0  # seconds a run may take before it is abandoned (its processes stopped)


@dataclass(frozen=True, slots=True)
class Mode:
    """A set-up: how many daemons, on which engine."""

    what: str
    daemons: int
    postgresql: bool


MODES = {
    "sqlite": Mode("one daemon, SQLite", 1, postgresql=False),
    "pg1": Mode("one daemon, PostgreSQL", 1, postgresql=True),
    "pg2": Mode("two daemons, one PostgreSQL, shared subscription", 2, postgresql=True),
}


def daemon_names(mode: Mode) -> list[str]:
    return [f"bench-{chr(ord('a') + i)}" for i in range(mode.daemons)]


def postmaster_pid(server: PostgresServer) -> int:
    """The server's first process, the root of its tree (the first line of postmaster.pid)."""
    return int((server.data / "postmaster.pid").read_text().split()[0])


def cpu_now(
    daemons: dict[str, asyncio.subprocess.Process],
    server: PostgresServer | None,
    smsc: Smsc,
    broker_pid: int,
) -> dict[str, float]:
    """CPU seconds so far of every process of a run, by name, and the machine's busy CPU."""
    cpu = {name: cpu_seconds(proc.pid) for name, proc in daemons.items()}
    if server is not None:
        cpu["postgresql"] = tree_cpu_seconds(postmaster_pid(server))
    cpu["smsc"] = smsc.cpu()
    cpu["mosquitto"] = cpu_seconds(broker_pid)
    cpu["publisher"] = cpu_seconds(os.getpid())
    cpu["machine"] = machine_busy_seconds()
    return cpu


def loops_now(daemons: dict[str, asyncio.subprocess.Process]) -> dict[str, float]:
    """CPU seconds so far of each daemon's event loop (its first thread)."""
    return {name: thread_cpu_seconds(proc.pid) for name, proc in daemons.items()}


def submits_of(admin_port: int) -> int:
    """The submit_sm a daemon had answered OK so far, by its own account (/metrics)."""
    url = f"http://127.0.0.1:{admin_port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as answer:
        for line in answer.read().decode().splitlines():
            if line.startswith('motcua_submits_total{result="ok"}'):
                return int(float(line.split()[-1]))
    raise RuntimeError(f"no motcua_submits_total in {url}")


async def start_daemons(
    mode: Mode, work: Path, smsc_port: int, broker_port: int, store: str, window: int
) -> tuple[dict[str, asyncio.subprocess.Process], dict[str, int]]:
    """The daemons of `mode`, each its own name, client id and admin port (its /metrics),
    sharing intake when there are several; the daemons by name, and their admin ports."""
    env = {**os.environ, "MOTCUA_SMS_LOG_FORMAT": "json"}
    shared = f", shared_group: {GROUP}" if mode.daemons > 1 else ""
    daemons: dict[str, asyncio.subprocess.Process] = {}
    admin: dict[str, int] = {}
    for name in daemon_names(mode):
        config = work / f"{name}.yaml"
        admin[name] = free_port()
        config.write_text(
            daemon_config(
                smsc_port, broker_port, window, store, client_id=f"gw-{name}", mqtt=shared,
                more=f"daemon: {{name: {name}}}\nadmin: {{port: {admin[name]}}}\n",
            ),
            encoding="utf-8",
        )  # fmt: skip
        daemons[name] = await start_daemon(config, work / f"{name}.log", env)
    return daemons, admin


async def one_run(
    mode: Mode,
    messages: int,
    *,
    server: PostgresServer | None,
    smsc_kind: str = "node",
    window: int = 10,
    text: str = "ucs2",
    give_up: float = GIVE_UP,
) -> dict[str, Any]:
    """One fresh run of `mode`: broker, SMSC, daemons, and a new database on `server`."""
    broker = start_broker()
    work = Path(tempfile.mkdtemp(prefix="motcua-bench-ha-"))
    procs: list[asyncio.subprocess.Process] = []
    smsc: Smsc | None = None
    url: str | None = None
    sampler: WaitSampler | None = None
    finished = False
    try:
        smsc = await start_smsc(smsc_kind, env={**os.environ, "MOTCUA_SMS_LOG_FORMAT": "json"})
        if mode.postgresql:
            assert server is not None
            url = server.new_database()
            store = f"{{url: '{url}'}}"
        else:
            store = f"{{path: {work / 'gateway.db'}}}"
        daemons, admin = await start_daemons(mode, work, smsc.port, broker.port, store, window)
        procs += daemons.values()
        jobs = [TEXTS[text](n) for n in range(messages)]
        broker_pid = broker.pid
        assert broker_pid is not None

        async with Deliveries(broker.port, messages) as delivered:
            for name, proc in daemons.items():
                await daemon_ready(work / f"{name}.log", proc)
            # On SQLite the server idles; its CPU is no part of that set-up's.
            pg = server if mode.postgresql else None
            database = url.rsplit("/", 1)[1] if url else ""
            if pg is not None:
                stats = await asyncio.to_thread(counters, pg.url("postgres"), database)
                sampler = WaitSampler(pg.url("postgres"), database).start()
            before, loops = cpu_now(daemons, pg, smsc, broker_pid), loops_now(daemons)
            sampled = sampler.cpu() if sampler is not None else (0.0, 0.0)
            start = time.perf_counter()
            await publish_all(broker.port, jobs)
            seconds = await asyncio.wait_for(delivered.wait_all(start, str(work)), give_up)
            after, loops_after = cpu_now(daemons, pg, smsc, broker_pid), loops_now(daemons)
            if sampler is not None:
                # Sampling is no part of what is measured: out of this process's and the
                # server's figures, and shown on its own.
                thread, backend = sampler.cpu()
                thread, backend = thread - sampled[0], backend - sampled[1]
                after["publisher"] -= thread
                after["postgresql"] -= backend
                after["sampling"], before["sampling"] = thread + backend, 0.0
        cpu = {name: after[name] - before[name] for name in before}
        ours = sum(v for k, v in cpu.items() if k != "machine")
        cpu["others"] = max(0.0, cpu.pop("machine") - ours)
        got: dict[str, Any] = {
            "rate": messages / seconds,
            "seconds": seconds,
            "cpu": cpu,
            "loop_cpu": {n: loops_after[n] - loops[n] for n in loops},
            "submits_by": {n: await asyncio.to_thread(submits_of, p) for n, p in admin.items()},
            "submits": await smsc.submits(),
        }
        if sampler is not None:
            got["backends"] = sampler.stop()
            sampler = None
            # A backend's statistics are surely in once it has ended: the daemons stopped
            # (their last few commits, leaving, are counted too, a handful in thousands).
            await stop_processes(procs)
            await asyncio.sleep(STATS_DELAY)
            later = await asyncio.to_thread(counters, pg.url("postgres"), database)
            got["server"] = {k: later[k] - stats[k] for k in stats}
        finished = True
        return got
    finally:
        if sampler is not None:
            sampler.stop()
        await stop_processes(procs)
        if smsc is not None:
            await smsc.stop()
        broker.close()
        if url is not None and server is not None:
            server.drop(url)
        if finished:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"{mode.what}: the run failed; its daemons' logs are in {work}", file=sys.stderr)


def _median_by_key(dicts: list[dict[str, float]]) -> dict[str, float]:
    """Each key's median over `dicts` (a key missing from one counts as 0 there)."""
    keys = list(dict.fromkeys(k for d in dicts for k in d))
    return {k: statistics.median(d.get(k, 0.0) for d in dicts) for k in keys}


def summary(mode: Mode, runs: list[dict[str, Any]], messages: int) -> dict[str, Any]:
    """Medians of `runs` of one set-up, each run's rate kept for the spread."""
    cpu = _median_by_key([r["cpu"] for r in runs])
    daemons = daemon_names(mode)
    # What the store costs is the daemons' CPU on SQLite (it runs in their thread) but the
    # daemons' and the server's on PostgreSQL: per message, both together.
    store_side = [*daemons, "postgresql"] if mode.postgresql else daemons
    per_message = statistics.median(
        1000 * sum(r["cpu"][n] for n in store_side) / messages for r in runs
    )
    busy = statistics.median(
        sum(r["cpu"].values()) / (r["seconds"] * (os.cpu_count() or 1)) for r in runs
    )
    # The rate this machine's cores would allow were they all this set-up's: every one of
    # its processes (not what else ran, nor the sampling) spends CPU on every message.
    own = [sum(v for k, v in r["cpu"].items() if k not in ("others", "sampling")) for r in runs]
    ceiling = statistics.median((os.cpu_count() or 1) * messages / c for c in own)
    got: dict[str, Any] = {
        "mode": mode.what,
        "daemons": mode.daemons,
        "messages": messages,
        "rate": statistics.median(r["rate"] for r in runs),
        "rates": [round(r["rate"]) for r in runs],
        "seconds": statistics.median(r["seconds"] for r in runs),
        "cpu_seconds": cpu,
        "cpu_ms_per_message": {n: 1000 * v / messages for n, v in cpu.items()},
        "loop_cpu_seconds": _median_by_key([r["loop_cpu"] for r in runs]),
        "gateway_cpu_ms_per_message": per_message,
        "machine_busy_share": busy,
        "cpu_ceiling_rate": ceiling,
        "submits_by": [r["submits_by"] for r in runs],
        "parts_per_message": runs[-1]["submits"] / messages,
    }
    if mode.postgresql:
        server = _median_by_key([r["server"] for r in runs])
        got["server_per_message"] = {k: v / messages for k, v in server.items()}
        got["backend_shares"] = _median_by_key([r["backends"]["shares"] for r in runs])
        got["backends_per_sample"] = statistics.median(
            r["backends"]["backends_per_sample"] for r in runs
        )
    return got


def figures(got: dict[str, Any]) -> str:
    """One set-up's figures, as printed and as written in RESULTS.md."""
    cpu = ", ".join(f"{n} {v:.1f}" for n, v in got["cpu_seconds"].items())
    per = ", ".join(f"{n} {v:.2f}" for n, v in got["cpu_ms_per_message"].items())
    loops = ", ".join(f"{n} {v:.1f}" for n, v in got["loop_cpu_seconds"].items())
    split = " / ".join(f"{n} {c:,}" for n, c in got["submits_by"][-1].items())
    pg = "postgresql" in got["cpu_seconds"]
    text = (
        f"{got['rate']:,.0f} msg/s (runs {got['rates']}, median {got['seconds']:.1f} s); "
        f"CPU s: {cpu} (of which event loops: {loops}); ms/msg: {per}; gateway (daemons"
        f"{' + PostgreSQL' if pg else ''}) {got['gateway_cpu_ms_per_message']:.2f} ms/msg; "
        f"all of it {got['machine_busy_share']:.0%} of {os.cpu_count()} cores; its processes' "
        f"CPU would allow {got['cpu_ceiling_rate']:,.0f} msg/s on them alone; "
        f"submit_sm by {split} (last run)"
    )
    if pg:
        server = got["server_per_message"]
        shown = {k: v for k, v in got["backend_shares"].items() if v >= 0.005}
        shares = ", ".join(f"{k} {v:.0%}" for k, v in shown.items())
        text += (
            f"; per message {server['commits']:.2f} commits, {server['wal_syncs']:.2f} WAL "
            f"flushes; the daemons' backends ({got['backends_per_sample']:.1f} at a time): "
            f"{shares}"
        )
    return text


async def measure(
    *,
    messages: int = MESSAGES,
    repeat: int = 3,
    modes: tuple[str, ...] = tuple(MODES),
    smsc: str = "node",
    give_up: float = GIVE_UP,
) -> list[dict[str, Any]]:
    """Every set-up of `modes`, runs alternating, `repeat` each; a summary per set-up."""
    chosen = [MODES[m] for m in modes]
    server = (
        await asyncio.to_thread(started_server, durable=True)
        if any(m.postgresql for m in chosen)
        else None
    )
    runs: dict[str, list[dict[str, Any]]] = {m.what: [] for m in chosen}
    try:
        for _ in range(repeat):
            for mode in chosen:
                runs[mode.what].append(
                    await one_run(mode, messages, server=server, smsc_kind=smsc, give_up=give_up)
                )
    finally:
        if server is not None:
            await asyncio.to_thread(server.stop)
    return [summary(m, runs[m.what], messages) for m in chosen]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=MESSAGES)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--smsc", choices=KINDS, default="node")
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES))
    parser.add_argument("--give-up", type=float, default=GIVE_UP, help="seconds a run may take")
    parser.add_argument("--json", type=Path, help="also write the summaries here")
    args = parser.parse_args()
    command = f"python {' '.join(shlex.quote(a) for a in sys.argv)}"
    load_before = os.getloadavg()[0]
    got = await measure(
        messages=args.messages, repeat=args.repeat, modes=tuple(args.modes), smsc=args.smsc,
        give_up=args.give_up,
    )  # fmt: skip
    print(f"$ {command}")
    print(
        f"{args.messages} SMS jobs ({got[0]['parts_per_message']:.2f} submit_sm each), window "
        f"10, {args.smsc} SMSC, {os.cpu_count()} cores, load {load_before:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after; medians of {args.repeat}, runs alternating:"
    )
    for summary_ in got:
        print(f"- {summary_['mode']}: {figures(summary_)}")
    if args.json is not None:
        args.json.write_text(json.dumps({"command": command, "modes": got}, indent=1))


if __name__ == "__main__":
    asyncio.run(main())
