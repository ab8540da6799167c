"""Intake and the reconciliation figures: the same events give the same figures however
the Batcher happens to cut them into batches."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from gateway.intake.consumer import Received
from gateway.store.figures import Figures
from gateway.store.store import Store
from tests.support.clock import Clock, at
from tests.support.daemon import dossier_event
from tests.support.figures import ALL, PRICE, TZ, figure_composer, settle
from tests.support.intake import IntakeRig, config, intake_on

SINCE, UNTIL = date(2026, 11, 20), date(2026, 11, 26)
DAY = date(2026, 11, 23)


def _event(status: str, occurred_at: str, **over: Any) -> Received:
    """Dossier 1's event; a field given as None is left out of the payload."""
    body = dossier_event(1, status=status, occurred_at=occurred_at, **over)
    body = {k: v for k, v in body.items() if v is not None}
    return Received("motcua/SCT/dossier", json.dumps(body, ensure_ascii=False).encode())


# Received on the 22nd, resolved on the 23rd, reopened on the 24th, resolved again.
REOPENED = [
    _event("received", "2026-11-22T16:00:00+07:00"),
    _event("result_ready", "2026-11-23T09:00:00+07:00"),
    _event("processing", "2026-11-24T09:00:00+07:00"),
    _event("result_ready", "2026-11-24T15:00:00+07:00", event_id="SCT-1-again"),
]


async def _figures(rig: IntakeRig, batches: Sequence[Sequence[Received]]) -> list[Any]:
    for batch in batches:
        await rig.intake.process(batch)
    rows = await Figures(rig.store.database, TZ, PRICE).table(SINCE, UNTIL, ALL)
    return [(r.day.day, r.dossiers_received, r.dossiers_resolved) for r in rows]


async def test_a_reopened_dossier_counts_once_received_and_once_resolved_in_separate_batches(
    rig,
):
    assert await _figures(rig, [[e] for e in REOPENED]) == [(22, 1, 0), (23, 0, 1)]


async def test_a_reopened_dossier_counts_the_same_in_one_batch_as_in_several(rig):
    assert await _figures(rig, [REOPENED]) == [(22, 1, 0), (23, 0, 1)]


async def test_a_dossier_resolved_then_reopened_within_one_batch_still_counts_resolved(rig):
    assert await _figures(rig, [REOPENED[:3]]) == [(22, 1, 0), (23, 0, 1)]


async def test_a_dossier_whose_code_goes_missing_stays_one_procedure(tmp_path, store_location):
    """Received with its code, then resolved by an event that leaves the code out: its
    resolution and its result notice stay under the code, not under its name."""
    clock = Clock(at(10))
    async with Store.open(store_location, clock=clock) as store:
        intake = intake_on(store, config(), figure_composer(clock))
        day = "2026-11-23T09:00:00+07:00"
        await intake.process([_event("received", day, procedure_code="1.001")])
        await intake.process([_event("result_ready", day, procedure_code=None)])
        await settle(store, clock, "SCT-1-result_ready:result", "delivered")
        rows = await Figures(store.database, TZ, PRICE).table(DAY, DAY, ("agency", "procedure"))
    got = [(r.procedure_code, r.dossiers_received, r.dossiers_resolved, r.notices_delivered)
           for r in rows]  # fmt: skip
    assert got == [("1.001", 1, 1, 1)]
