"""Letters (e-mail copies of notices) enter the store with intake's batch: those given to
`record_intake` are kept, and one refused at intake for its address is kept refused with
its status, beside the notice it copies."""

from __future__ import annotations

import json

import pytest

from gateway.domain.letter import NewLetter
from gateway.domain.states import MessageState
from gateway.store.store import Store
from tests.support.clock import Clock, at
from tests.support.store_reads import db_rows


@pytest.fixture
def clock() -> Clock:
    return Clock(at(9))


@pytest.fixture
async def store(tmp_path, store_location, clock):
    async with Store.open(store_location, clock=clock) as store:
        yield store


def letter(clock: Clock, ref: str, **given: object) -> NewLetter:
    fields: dict = {
        "agency": "SCT", "ref": ref, "kind": "result", "state": MessageState.QUEUED,
        "sender": "motcua@sct.gov.vn", "not_before": clock(), "expires_at": clock() + 3600,
        "address": "dan@example.vn", "subject": "Hồ sơ 000123 đã có kết quả",
        "body": "Hồ sơ 000123 đã có kết quả.", "receipt_no": "000123",
    }  # fmt: skip
    return NewLetter(**{**fields, **given})


async def test_a_letter_given_with_an_intake_batch_is_queued_for_the_mail_sender(store, clock):
    await store.dossiers.record_intake(letters=[letter(clock, "n1")])

    due = await store.letters.due(10)

    assert [(x.ref, x.address, x.body) for x in due] == [
        ("n1", "dan@example.vn", "Hồ sơ 000123 đã có kết quả.")
    ]


async def test_a_letter_refused_at_intake_is_kept_refused_with_its_status(store, clock):
    refused = letter(
        clock, "n2", state=MessageState.REJECTED, address=None, subject=None, body=None,
        reason="email: not an address", expires_at=clock(),
    )  # fmt: skip

    await store.dossiers.record_intake(letters=[refused])

    assert await db_rows(store, "SELECT ref, state, reason FROM emails") == [
        ("n2", "rejected", "email: not an address")
    ]
    assert await store.letters.due(10) == []
    (status,) = [json.loads(p) for _, _, p in await store.statuses.pending(10)]
    assert (status["id"], status["state"], status["channel"], status["to"]) == (
        "n2:email", "rejected", "email", None,
    )  # fmt: skip
