"""Message values check their state against the transition table where they are made."""

from __future__ import annotations

import pytest

from gateway.domain.message import NewMessage, Outcome, Queued
from gateway.domain.states import MessageState


def new(state: str) -> NewMessage:
    return NewMessage(
        agency="SCT", ref="r", kind="sms", source="HCC", priority=1, state=state,
        not_before=0.0, expires_at=0.0,
    )  # fmt: skip


QUEUED = Queued(
    id=1, agency="SCT", ref="r", kind="sms", phone="84905123456", source="HCC", text="x",
    priority=1, attempts=0, concat_ref=0, expires_at=0.0, event_id=None, receipt_no=None,
    done_parts=frozenset(),
)  # fmt: skip


@pytest.mark.parametrize("state", ["queued", "rejected", "skipped"])
def test_a_new_message_takes_its_state_as_the_enum(state):
    assert new(state).state is MessageState(state)


@pytest.mark.parametrize("state", ["submitted", "delivered", "expired", "failed"])
def test_a_new_message_cannot_be_born_in_a_later_state(state):
    with pytest.raises(ValueError, match=f"a new message cannot be '{state}'"):
        new(state)


def test_a_new_message_of_an_unknown_state_is_refused():
    with pytest.raises(ValueError, match="'sent' is not a valid MessageState"):
        new("sent")


@pytest.mark.parametrize("state", ["queued", "submitted", "delivered", "failed", "expired"])
def test_a_send_outcome_is_a_state_that_may_follow_queued(state):
    assert Outcome(QUEUED, state, 1, 0.0).state is MessageState(state)


@pytest.mark.parametrize("state", ["undeliverable", "rejected", "skipped"])
def test_a_send_outcome_cannot_settle_what_only_a_receipt_or_intake_decides(state):
    with pytest.raises(ValueError, match=f"a send outcome cannot be '{state}'"):
        Outcome(QUEUED, state, 1, 0.0)
