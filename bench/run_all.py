"""Every benchmark in one run, as a table against its goal; written to bench/RESULTS.md.

Runs one after the other (never two at once: they would share the two cores). The full
run takes about 20 minutes; `--quick` uses smaller loads and one repetition, for
checking that everything still runs, not for figures.

    python bench/run_all.py [--quick] [--skip kannel ...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shlex
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import apology_scan  # noqa: E402
import e2e_mt  # noqa: E402
import kannel  # noqa: E402
import memory  # noqa: E402
import mo_latency  # noqa: E402
import throttle  # noqa: E402


@dataclass
class Row:
    what: str
    figure: str
    goal: str
    met: bool | None  # None: no goal, or a comparison only


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


async def mt_rows(events: int, repeat: int, with_kannel: bool) -> list[Row]:
    rows: list[Row] = []
    for text in ("gsm7", "ucs2"):
        for window in (10, 50):
            ours = await e2e_mt.measure(events=events, window=window, text=text, repeat=repeat)
            label = f"End-to-end MT, {text}, window {window}"
            rows.append(
                Row(
                    f"{label}: motcua-sms",
                    f"{ours['rate']:,.0f} msg/s ({ours['parts_per_message']:.0f} part"
                    f"{'s' if ours['parts_per_message'] > 1 else ''}; runs {ours['rates']})",
                    "≥ 2,000 msg/s",
                    ours["rate"] >= 2000,
                )
            )
            if not with_kannel:
                continue
            for store in ("memory", "spool"):
                theirs = await kannel.measure(
                    messages=events, window=window, text=text, store=store, repeat=repeat
                )
                ratio = ours["rate"] / theirs["rate"]
                rows.append(
                    Row(
                        f"{label}: Kannel, {store} store",
                        f"{theirs['rate']:,.0f} msg/s (runs {theirs['rates']}); "
                        f"ours / Kannel = {ratio:.2f}",
                        "ratio ≥ 1.0",
                        ratio >= 1.0,
                    )
                )
    return rows


async def mo_rows(dossiers: int, mos: int) -> list[Row]:
    got = await mo_latency.measure(dossiers=dossiers, mos=mos, rate=50.0)
    return [
        Row(
            f"MO → reply, {dossiers:,} dossiers, {mos} MCKH at 50/s",
            f"p50 {got['p50_ms']:.1f} ms, p99 {got['p99_ms']:.1f} ms, max {got['max_ms']:.1f} ms"
            f" ({got['replies']} replies)",
            "p99 ≤ 10 ms",
            got["p99_ms"] <= 10 and got["replies"] == mos,
        )
    ]


async def apology_rows(dossiers: int) -> list[Row]:
    got = await apology_scan.measure(dossiers=dossiers)
    return [
        Row(
            f"Apology scan, {dossiers:,} dossiers, 10 % due tomorrow",
            f"{got['seconds']:.2f} s to select and queue {got['queued']:,}",
            "≤ 2 s",
            got["seconds"] <= 2 and got["queued"] == got["due_tomorrow"],
        )
    ]


async def memory_rows(messages: int) -> list[Row]:
    got = await memory.measure(messages=messages)
    return [
        Row("Memory, daemon idle", f"{got['idle_mb']:.0f} MiB RSS", "", None),
        Row(
            f"Memory, {got['queued']:,} queued, SMSC down",
            f"{got['queued_mb']:.0f} MiB RSS (peak {got['peak_mb']:.0f} MiB)",
            "≤ 80 MB (76 MiB)",
            got["queued_mb"] * 2**20 <= 80e6,
        ),
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
            )
        )
    return rows


def table(rows: list[Row]) -> str:
    mark = {True: "yes", False: "**no**", None: ""}
    out = ["| Benchmark | Figure | Goal | Met |", "|---|---|---|---|"]
    out += [f"| {r.what} | {r.figure} | {r.goal} | {mark[r.met]} |" for r in rows]
    return "\n".join(out)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small loads, one repetition")
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["mt", "kannel", "mo", "apology", "memory", "throttle"],
    )
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()
    quick = args.quick
    steps: list[tuple[str, Callable[[], Awaitable[list[Row]]]]] = [
        (
            "mt",
            lambda: mt_rows(
                5000 if quick else 20_000, 1 if quick else 3, "kannel" not in args.skip
            ),
        ),
        ("mo", lambda: mo_rows(100_000 if quick else 1_000_000, 300 if quick else 2000)),
        ("apology", lambda: apology_rows(100_000 if quick else 1_000_000)),
        ("memory", lambda: memory_rows(10_000 if quick else 100_000)),
        ("throttle", lambda: throttle_rows(4 if quick else 10)),
    ]
    rows: list[Row] = []
    started = time.perf_counter()
    for name, step in steps:
        if name in args.skip:
            continue
        print(f"... {name}", file=sys.stderr, flush=True)
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
            "Each row's own command is in the module named in bench/README.md; the daemon, "
            "the simulator and mosquitto (and Kannel's bearerbox and smsbox) run as separate "
            "processes on 127.0.0.1.",
            "",
        ]
    )
    print(f"$ {command}")
    print(report)
    args.out.write_text(report, encoding="utf-8")


if __name__ == "__main__":
    asyncio.run(main())
