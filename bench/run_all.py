"""Every benchmark in one run, as a table against its goal; written to bench/RESULTS.md.

One command for all of issue 14's figures, on this machine, in one sitting:

    python bench/run_all.py            # median of 3 each, ~40 min with the store built
    python bench/run_all.py --quick    # each row once, small loads: a check, not figures

End to end on both SMSCs (node-smpp from tests/interop, then the bundled simulator), each
time our daemon and Kannel (bearerbox + smsbox, memory store) side by side on the same
load, runs alternating (ours, Kannel, ours, Kannel, ...) so that both see the same
machine; then the same on a store holding a year of traffic (bench/big_store.py, built
once and cached under /tmp), one daemon on SQLite beside one and two on one PostgreSQL
(bench/ha.py), MCKH replies idle and under MT load, the apology run,
memory with 100,000 queued, commits per message, throttling. Each row says the command
that measures it alone, its runs (the spread), the SMSC's own CPU share, and the load
average when it ran. Benchmarks run one after the other, never two at once.

    python bench/run_all.py [--quick] [--skip kannel store ...] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import apology_scan  # noqa: E402
import big_store  # noqa: E402
import commits  # noqa: E402
import e2e_mt  # noqa: E402
import ha  # noqa: E402
import kannel  # noqa: E402
import memory  # noqa: E402
import mo_latency  # noqa: E402
import throttle  # noqa: E402

STEPS = ("mt", "kannel", "store", "ha", "mo", "apology", "memory", "commits", "throttle")


@dataclass
class Row:
    what: str
    figure: str
    goal: str
    met: bool | None  # None: no goal, or a comparison only
    command: str = ""


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem_kb / 1024 / 1024:.0f} GiB; "
        f"{platform.system()} {platform.release()}; Python {platform.python_version()}"
    )


async def mt_rows(
    events: int, repeat: int, with_kannel: bool, store: Path | None = None
) -> tuple[list[Row], dict[str, float]]:
    """Ours and Kannel's, on each SMSC, runs alternating; our rates by SMSC (for the
    store-size rows)."""
    rows: list[Row] = []
    ours_by_smsc: dict[str, float] = {}
    where = " (store: a year of traffic)" if store else ""
    for smsc in ("node", "bundled"):
        ours_runs: list[dict[str, Any]] = []
        theirs_runs: list[dict[str, Any]] = []
        loads = []
        for _ in range(repeat):
            loads.append(os.getloadavg()[0])
            ours_runs.append(await e2e_mt.one_run(events, 10, "gsm7", smsc_kind=smsc, store=store))
            if with_kannel:
                got = await kannel.measure(messages=events, window=10, smsc=smsc, repeat=1)
                theirs_runs.append(got)
        ours = e2e_mt.summary(ours_runs, events=events, window=10, text="gsm7", smsc=smsc)
        ours_by_smsc[smsc] = ours["rate"]
        command = f"python bench/e2e_mt.py --events {events} --smsc {smsc} --repeat {repeat}"
        if store:
            command += f" --store {store}"
        rows.append(
            Row(
                f"E2E MT{where}, {smsc} SMSC, gsm7, window 10: motcua-sms",
                f"{ours['rate']:,.0f} msg/s (runs {ours['rates']}); CPU "
                f"{ours['daemon_cpu_ms']:.3f} ms/msg (runs {ours['daemon_cpu_mss']}); "
                f"SMSC {ours['sim_cpu_share']:.0%} of a core; load "
                f"{min(loads):.1f}-{max(loads):.1f}",
                "",
                None,
                command,
            )
        )
        if not theirs_runs:
            continue
        rate = statistics.median(r["rate"] for r in theirs_runs)
        cpu = statistics.median(r["kannel_cpu_ms"] for r in theirs_runs)
        share = statistics.median(r["sim_cpu_share"] for r in theirs_runs)
        ratio, cpu_ratio = ours["rate"] / rate, ours["daemon_cpu_ms"] / cpu
        rows.append(
            Row(
                f"E2E MT{where}, {smsc} SMSC: Kannel 1.4.5, memory store",
                f"{rate:,.0f} msg/s (runs {[round(r['rate']) for r in theirs_runs]}); CPU "
                f"{cpu:.3f} ms/msg; SMSC {share:.0%} of a core",
                "",
                None,
                f"python bench/kannel.py --messages {events} --smsc {smsc} --repeat {repeat}",
            )
        )
        label = f"E2E MT{where}, {smsc} SMSC: ours / Kannel"
        rows.append(Row(f"{label}, rate", f"{ratio:.2f}", "≥ 1.0", ratio >= 1.0))
        rows.append(Row(f"{label}, CPU per message", f"{cpu_ratio:.2f}", "≤ 1.0", cpu_ratio <= 1))
    return rows, ours_by_smsc


async def store_rows(
    events: int, repeat: int, empty: dict[str, float], messages: int, dossiers: int
) -> list[Row]:
    """The same MT runs (ours) from a store of `messages` and `dossiers`, against the
    empty store's figures of this same sitting."""
    path = await big_store.ensure(messages, dossiers)
    rows, full = await mt_rows(events, repeat, with_kannel=False, store=path)
    for smsc, rate in full.items():
        if smsc in empty:
            change = rate / empty[smsc] - 1
            rows.append(
                Row(
                    f"E2E MT, {smsc} SMSC: {messages:,} messages + {dossiers:,} dossiers "
                    "in the store vs empty",
                    f"{change:+.1%} ({rate:,.0f} vs {empty[smsc]:,.0f} msg/s)",
                    "within 10 %",
                    abs(change) <= 0.10,
                    f"python bench/big_store.py --messages {messages} --dossiers {dossiers}",
                )
            )
    return rows


async def ha_rows(messages: int, repeat: int) -> list[Row]:
    """One daemon on SQLite, one and two on PostgreSQL (bench/ha.py), runs alternating."""
    command = f"python bench/ha.py --messages {messages} --smsc node --repeat {repeat}"
    got = await ha.measure(messages=messages, repeat=repeat, smsc="node")
    what = f"E2E MT, {messages:,} SMS jobs, node SMSC"
    return [
        Row(f"{what}: {one['mode']}", f"{ha.figures(one)}; {load()}", "", None, command)
        for one in got
    ]


async def mo_rows(dossiers: int, mos: int, under_load: int) -> list[Row]:
    rows = []
    for mt in (0, under_load):
        got = await mo_latency.measure(dossiers=dossiers, mos=mos, rate=50.0, under_load=mt)
        how = f"while {got['mt_submits']:,} MT go at full rate" if mt else "idle daemon"
        command = f"python bench/mo_latency.py --dossiers {dossiers} --mos {mos}"
        rows.append(
            Row(
                f"MCKH → reply, {dossiers:,} dossiers, {mos} at 50/s, {how}",
                f"p50 {got['p50_ms']:.1f} ms, p99 {got['p99_ms']:.1f} ms, max "
                f"{got['max_ms']:.1f} ms ({got['replies']} timed); share of a core: daemon "
                f"{got['daemon_cpu_share']:.0%}, the MOs' simulator {got['sim_cpu_share']:.0%}"
                + (f", the load's node-smpp SMSC {got['load_smsc_cpu_share']:.0%}" if mt else "")
                + f"; {load()}",
                "p99 ≤ 10 ms",
                got["p99_ms"] <= 10,
                command + (f" --under-load {mt}" if mt else ""),
            )
        )
    return rows


async def apology_rows(dossiers: int, repeat: int) -> list[Row]:
    runs = [await apology_scan.measure(dossiers=dossiers) for _ in range(repeat)]
    seconds = statistics.median(r["seconds"] for r in runs)
    stall = statistics.median(r["loop_stall_max"] for r in runs)
    ok = all(r["ok"] for r in runs)
    return [
        Row(
            f"Apology run, {dossiers:,} dossiers, 10 % due",
            f"{seconds:.2f} s (runs {[round(r['seconds'], 2) for r in runs]}); "
            f"{'all queued' if ok else '**queued ≠ due**'}; {load()}",
            "≤ 2 s",
            seconds <= 2 and ok,
            f"python bench/apology_scan.py --dossiers {dossiers}",
        ),
        Row(
            "Apology run: longest event-loop stall meanwhile",
            f"{stall * 1000:.0f} ms (runs {[round(r['loop_stall_max'] * 1000) for r in runs]})",
            "≤ 50 ms",
            stall <= 0.05,
            f"python bench/apology_scan.py --dossiers {dossiers}",
        ),
    ]


async def memory_rows(messages: int) -> list[Row]:
    got = await memory.measure(messages=messages)
    command = f"python bench/memory.py --messages {messages}"
    return [
        Row("Memory, daemon idle", f"{got['idle_mb']:.0f} MiB RSS", "", None, command),
        Row(
            f"Memory, {got['queued']:,} queued, SMSC down",
            f"{got['queued_mb']:.0f} MiB RSS (peak {got['peak_mb']:.0f} MiB); {load()}",
            "≤ 80 MB (76 MiB)",
            got["queued_mb"] * 2**20 <= 80e6,
            command,
        ),
    ]


async def commit_rows(jobs: int) -> list[Row]:
    got = await commits.measure(jobs)
    return [
        Row(
            f"COMMITs (fsyncs) per message, {jobs:,} SMS jobs end to end",
            f"{got['commits_per_message']:.2f} ({got['commits']:,} COMMITs)",
            "",
            None,
            f"python bench/commits.py --jobs {jobs}",
        )
    ]


async def throttle_rows(seconds: int) -> list[Row]:
    got = await throttle.measure(rates=(50, 200), seconds=seconds)
    rows = []
    for r in got["results"]:
        ratio = r["achieved"] / r["configured"]
        rows.append(
            Row(
                f"Throttle, configured {r['configured']} TPS",
                f"{r['achieved']:.1f} msg/s = {ratio:.3f} of configured, max second "
                f"{r['max_second']}, ESME_RTHROTTLED {r['throttled']}",
                "within 1 %, 0 throttled",
                abs(ratio - 1) <= 0.01 and r["throttled"] == 0,
                f"python bench/throttle.py --seconds {seconds}",
            )
        )
    return rows


def table(rows: list[Row]) -> str:
    mark = {True: "yes", False: "**no**", None: ""}
    out = ["| Benchmark | Figure | Goal | Met | Command |", "|---|---|---|---|---|"]
    out += [
        f"| {r.what} | {r.figure} | {r.goal} | {mark[r.met]} | "
        f"{f'`{r.command}`' if r.command else ''} |"
        for r in rows
    ]
    return "\n".join(out)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small loads, one run each")
    parser.add_argument("--skip", nargs="*", default=[], choices=STEPS)
    parser.add_argument("--out", type=Path, help="default bench/RESULTS.md (quick: /tmp)")
    args = parser.parse_args()
    quick = args.quick
    out = args.out or (Path("/tmp/motcua-bench-RESULTS-quick.md") if quick else HERE / "RESULTS.md")
    repeat = 1 if quick else 3
    events = 3000 if quick else 20_000
    stored = (200_000, 40_000) if quick else (5_000_000, 1_000_000)
    empty: dict[str, float] = {}

    async def mt() -> list[Row]:
        rows, rates = await mt_rows(events, repeat, "kannel" not in args.skip)
        empty.update(rates)
        return rows

    steps: list[tuple[str, Callable[[], Awaitable[list[Row]]]]] = [
        ("mt", mt),
        ("store", lambda: store_rows(events, repeat, empty, *stored)),
        ("ha", lambda: ha_rows(2000 if quick else ha.MESSAGES, repeat)),
        ("mo", lambda: mo_rows(*((100_000, 200, 3000) if quick else (1_000_000, 2000, 20_000)))),
        ("apology", lambda: apology_rows(100_000 if quick else 1_000_000, repeat)),
        ("memory", lambda: memory_rows(10_000 if quick else 100_000)),
        ("commits", lambda: commit_rows(500 if quick else 2000)),
        ("throttle", lambda: throttle_rows(4 if quick else 10)),
    ]
    rows: list[Row] = []
    started = time.perf_counter()
    for name, step in steps:
        if name in args.skip:
            continue
        print(f"... {name} ({load()})", file=sys.stderr, flush=True)
        try:
            rows += await step()
        except Exception as exc:  # one broken benchmark must not hide the others
            rows.append(Row(name, f"failed: {type(exc).__name__}: {exc}", "", False))
    command = f"python {' '.join(shlex.quote(a) for a in sys.argv)}"
    report = "\n".join(
        [
            "# Benchmark results",
            "",
            f"{date.today().isoformat()}, {machine()}.",
            f"Produced by `{command}` in {(time.perf_counter() - started) / 60:.0f} min"
            + (" (quick: small loads, not figures to quote)." if quick else "."),
            "",
            table(rows),
            "",
            "Each row's command measures it alone (bench/README.md); the daemon, the SMSC "
            "and mosquitto (and Kannel's bearerbox and smsbox) run as separate processes on "
            "127.0.0.1, except where a row says the simulator shares the benchmark's process.",
            "",
        ]
    )
    print(f"$ {command}")
    print(report)
    out.write_text(report, encoding="utf-8")
    print(f"written to {out}", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
