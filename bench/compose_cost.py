"""Composing alone: `Composer.notice` over apology_scan.py's due dossiers, µs a notice.

The apology run's share of the event loop (the store's share is apology_scan.py's
queue + commit), measured without a store so that the two can be told apart.

    python bench/compose_cost.py [--dossiers 20000] [--repeat 3] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shlex
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from apology_scan import CONFIG, RUN_DAY, rows

from gateway.app import composer_settings
from gateway.calendar.workdays import WorkCalendar
from gateway.compose.composer import Composer
from gateway.domain.dossier import DossierRow
from gateway.domain.message import Priority
from gateway.settings.config import parse_config


def dossiers(count: int) -> list[DossierRow]:
    config = parse_config(CONFIG.format(db="/nonexistent.db"), path="/nonexistent.yaml")
    (due,) = WorkCalendar.from_schedule(config.schedule).apology_covers(RUN_DAY)
    found = []
    for r in rows(count, count, due):
        found.append(DossierRow(*r[:9], bool(r[9]), *r[10:]))  # type: ignore[arg-type]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile one more pass")
    args = parser.parse_args()
    print(f"$ python {' '.join(shlex.quote(a) for a in sys.argv)}")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    config = parse_config(CONFIG.format(db="/nonexistent.db"), path="/nonexistent.yaml")
    composer = Composer(composer_settings(config))
    due = dossiers(args.dossiers)

    def compose() -> None:
        for d in due:
            composer.notice(
                "apology", d, event_id=None, ref=d.receipt_key, priority=Priority.APOLOGY
            )

    for _ in range(args.repeat):
        started = time.perf_counter()
        compose()
        spent = time.perf_counter() - started
        print(f"{spent / len(due) * 1e6:.1f} us a notice ({len(due):,} notices)")
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(compose)
        pstats.Stats(profile).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
