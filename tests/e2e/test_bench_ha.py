"""bench/ha.py run as written, on a small load, so that the benchmark cannot rot unseen:
it must still start its PostgreSQL server, its broker, SMSC and daemons, get every job
delivered in each set-up, and report what it says it reports. Figures are not checked
(speed is measured in bench/, never asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 100
# Bounds: a run may take this long before the benchmark gives up on it (and stops what it
# started); the whole command, three set-ups and a PostgreSQL server, this long.
RUN_BOUND = 120
COMMAND_BOUND = 600


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    """The benchmark's printed output and its --json summaries, for one run of each set-up."""
    out = tmp_path_factory.mktemp("ha") / "ha.json"
    done = subprocess.run(
        [sys.executable, "bench/ha.py", "--messages", str(MESSAGES), "--repeat", "1",
         "--give-up", str(RUN_BOUND), "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=COMMAND_BOUND, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout, json.loads(out.read_text())


def by_daemons(summaries: list[dict[str, Any]]) -> dict[tuple[int, bool], dict[str, Any]]:
    return {(s["daemons"], "postgresql" in s["cpu_seconds"]): s for s in summaries}


def test_each_set_up_delivers_every_job_and_says_who_sent_it(bench):
    """Every job delivered (a run ends only then), each two UCS-2 parts, and the daemons'
    own counts of what they submitted add up to what the SMSC answered."""
    _, got = bench
    setups = by_daemons(got["modes"])
    assert set(setups) == {(1, False), (1, True), (2, True)}
    for summary in setups.values():
        assert summary["messages"] == MESSAGES
        assert summary["rate"] > 0
        assert summary["parts_per_message"] == 2
        (submits,) = summary["submits_by"]
        assert sum(submits.values()) == 2 * MESSAGES


def test_two_daemons_each_send_a_share_of_the_jobs(bench):
    _, got = bench
    (submits,) = by_daemons(got["modes"])[(2, True)]["submits_by"]
    assert set(submits) == {"bench-a", "bench-b"}
    assert min(submits.values()) > 0


def test_the_server_s_work_is_reported_on_postgresql_only(bench):
    """Commits and WAL flushes per message, and what the daemons' backends were doing."""
    _, got = bench
    setups = by_daemons(got["modes"])
    assert "server_per_message" not in setups[(1, False)]
    for key in ((1, True), (2, True)):
        server = setups[key]["server_per_message"]
        assert server["commits"] > 0 and server["wal_syncs"] > 0
        assert sum(setups[key]["backend_shares"].values()) == pytest.approx(1.0, abs=0.05)


def test_the_cpu_of_every_process_of_a_set_up_is_reported(bench):
    _, got = bench
    setups = by_daemons(got["modes"])
    common = {"smsc", "mosquitto", "publisher", "others"}
    assert set(setups[(1, False)]["cpu_seconds"]) == {"bench-a"} | common
    # On PostgreSQL, what sampling its activity cost, out of the other figures.
    on_pg = {"postgresql", "sampling"} | common
    assert set(setups[(1, True)]["cpu_seconds"]) == {"bench-a"} | on_pg
    two = setups[(2, True)]["cpu_seconds"]
    assert set(two) == {"bench-a", "bench-b"} | on_pg
    assert min(two["bench-a"], two["bench-b"], two["postgresql"]) > 0


def test_the_output_names_its_command_and_one_line_per_set_up(bench):
    printed, got = bench
    lines = printed.splitlines()
    assert lines[0] == f"$ {got['command']}"
    assert got["command"].startswith(f"python bench/ha.py --messages {MESSAGES} ")
    setups = [line for line in lines if line.startswith("- ")]
    assert [line.split(": ", 1)[0] for line in setups] == [f"- {s['mode']}" for s in got["modes"]]
    for line in setups:
        assert " msg/s " in line and "CPU s: " in line and "ms/msg: " in line
