"""Two daemons sharing intake on one PostgreSQL store: the broker hands one dossier's
consecutive events to different daemons. A daemon that read the mirror before the other
committed a newer event does not write its older state over it (`dossiers.write_dossier`
updates a held row only from an event at least as new): the mirror keeps the newest state,
so MCKH answers the current step and the 17:30 run never apologises for a finished dossier.
SPEC: an event older (`occurred_at`) than the state already held is recorded but changes
nothing."""

from __future__ import annotations

import asyncio
import json

from gateway.intake.consumer import Received
from gateway.store.claims import Claimant
from gateway.store.store import Store
from tests.support.intake import config, intake_on
from tests.support.store_reads import db_rows

RECEIPT = "0101701234"


def event(event_id: str, status: str, step: str, hour: int) -> Received:
    body = {
        "event_id": event_id, "receipt_no": RECEIPT, "agency": "SCT",
        "procedure": "Cấp phép", "phone": "0905 123 456", "step": step,
        "status": status, "due_date": "2026-11-25",
        "occurred_at": f"2026-11-22T{hour:02d}:00:00+07:00",
    }  # fmt: skip
    return Received("motcua/SCT/dossier", json.dumps(body, ensure_ascii=False).encode())


async def test_the_newest_event_wins_when_two_daemons_take_one_dossiers_events(postgres_url):
    cfg = config()
    async with (
        Store.open(postgres_url, claimant=Claimant("a")) as a,
        Store.open(postgres_url, claimant=Claimant("b")) as b,
    ):
        await intake_on(a, cfg).process([event("e0", "processing", "Thẩm định hồ sơ", 9)])

        # Daemon a's batch (the older event) is decided first and committed last: both
        # read the mirror before either wrote, as two daemons' intakes do at any moment.
        b_committed = asyncio.Event()
        real = a.dossiers.record_intake

        async def after_b(**effects):
            await asyncio.wait_for(b_committed.wait(), 10)
            return await real(**effects)

        a.dossiers.record_intake = after_b  # type: ignore[method-assign]
        older = asyncio.create_task(
            intake_on(a, cfg).process([event("e1", "needs_supplement", "Chờ bổ sung", 10)])
        )
        await asyncio.sleep(0.5)  # a has read the mirror and decided; it waits to commit
        await intake_on(b, cfg).process([event("e2", "result_ready", "Trả kết quả", 11)])
        b_committed.set()
        await asyncio.wait_for(older, 10)

        held = await db_rows(a, "SELECT status, step, occurred_at FROM dossiers")
    assert [tuple(r) for r in held] == [
        ("result_ready", "Trả kết quả", "2026-11-22T11:00:00+07:00")
    ]
