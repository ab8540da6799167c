"""Where the daemon's samples went, from a py-spy raw profile (collapsed stacks).

    python bench/e2e_mt.py --events 20000 --smsc node --profile /tmp/daemon.txt
    python bench/profile_summary.py /tmp/daemon.txt

Prints each thread's share of the samples, the share of samples under each of the hot
path's concerns (a sample counts once for the first concern found from the leaf up),
and the leaf Python functions with the most samples. Idle samples (the event loop
waiting in epoll, the store's thread waiting for work) are counted apart: they are not
CPU.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

# A concern and the frames that mark it, looked for from the leaf towards the root.
CONCERNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "idle",
        (
            "select.epoll",
            "selectors.py",
            "_worker (concurrent/futures/thread.py:8",
            "wait (threading.py",
        ),
    ),
    ("sqlite (C)", ("_sqlite3", "libsqlite3")),
    ("json", ("json/", "orjson")),
    ("status payloads", ("status_event.py",)),
    ("logging", ("structlog", "gateway/ops/logs.py")),
    ("smpplib", ("smpplib/",)),
    ("our SMPP codec", ("gateway/smpp/",)),
    ("paho / aiomqtt", ("paho/", "aiomqtt/")),
    ("store (Python)", ("gateway/store/",)),
    ("intake", ("gateway/intake/",)),
    ("compose", ("gateway/compose/", "gateway/phone/")),
    ("outbound", ("gateway/outbound/",)),
    ("mqtt link", ("gateway/mqtt/",)),
    ("asyncio", ("asyncio/", "uvloop")),
)
_LINE = re.compile(r"^thread \((\d+)\): ([^;]*);(.*) (\d+)$")


def summarise(path: Path, top: int = 25) -> str:
    threads: Counter[str] = Counter()
    concerns: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        _tid, thread, stack, count = match.groups()
        n = int(count)
        frames = stack.split(";")
        total += n
        concern = next(
            (
                name
                for frame in reversed(frames)
                for name, marks in CONCERNS
                if any(mark in frame for mark in marks)
            ),
            "other",
        )
        concerns[concern] += n
        threads[f"{thread}{' (idle)' if concern == 'idle' else ''}"] += n
        python = [f for f in frames if "(" in f and ".py:" in f]
        if python and concern != "idle":
            leaves[re.sub(r":\d+\)", ")", python[-1])] += n
    busy = total - concerns["idle"]
    out = [f"{total} samples, {busy} busy ({busy / max(total, 1):.0%})", "", "threads:"]
    out += [f"  {n / total:6.1%}  {name}" for name, n in threads.most_common()]
    out += ["", "concerns, share of busy samples:"]
    out += [
        f"  {n / max(busy, 1):6.1%}  {name}" for name, n in concerns.most_common() if name != "idle"
    ]
    out += ["", f"top {top} leaf Python functions, share of busy samples:"]
    out += [f"  {n / max(busy, 1):6.1%}  {name}" for name, n in leaves.most_common(top)]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    print(summarise(args.profile, args.top))


if __name__ == "__main__":
    main()
