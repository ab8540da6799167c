"""The national calendar may be asked for first by two threads at once (the event loop
and a worker thread: the console's export runs in one): each must get the calendar, as
with `holidays.Vietnam`, whose import the interpreter's import lock serialises. Run in a
process of its own: this test run may have loaded the calendar already."""

from __future__ import annotations

import json
import subprocess
import sys

TIMEOUT = 60

CODE = """
import json, threading
from gateway.calendar.workdays import vietnam_year
errors, barrier = [], threading.Barrier(8)
def first_use(year):
    barrier.wait()
    try:
        vietnam_year(year)
    except Exception as exc:
        errors.append(repr(exc))
threads = [threading.Thread(target=first_use, args=(2020 + n,)) for n in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join(30)
print(json.dumps(errors))
"""


def test_threads_asking_for_the_national_calendar_at_once_each_get_it():
    done = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, timeout=TIMEOUT, check=True
    )
    errors = json.loads(done.stdout)
    assert errors == [], f"{len(errors)} of 8 first uses failed: {errors[0]}"
