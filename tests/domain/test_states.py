"""The message and part state machines: one table each, asked by the store and the tracker."""

from __future__ import annotations

import pytest

from gateway.domain.states import (
    BORN,
    FINAL_STATES,
    FOLLOWS,
    PART_FOLLOWS,
    WAITING,
    MessageState,
    PartState,
    settled_by_parts,
)
from gateway.domain.status_event import STATES

M = MessageState
P = PartState


def test_message_states_are_the_status_payloads_state_values():
    assert {s.value for s in MessageState} == STATES == {
        "queued", "submitted", "delivered", "undeliverable", "expired", "failed", "rejected",
        "skipped",
    }  # fmt: skip


def test_the_table_names_every_state():
    assert set(FOLLOWS) == set(MessageState)
    assert set(PART_FOLLOWS) == set(PartState)


def test_final_states_are_those_nothing_follows():
    assert {
        M.DELIVERED,
        M.UNDELIVERABLE,
        M.EXPIRED,
        M.FAILED,
        M.REJECTED,
        M.SKIPPED,
    } == FINAL_STATES
    assert all(FOLLOWS[s] == frozenset() for s in FINAL_STATES)
    assert {M.QUEUED, M.SUBMITTED} == WAITING


@pytest.mark.parametrize("final", sorted(FINAL_STATES))
def test_a_final_message_never_changes_again(final):
    assert not any(final.may_become(s) for s in MessageState)


def test_a_send_attempt_leaves_a_message_queued_submitted_delivered_failed_or_expired():
    assert FOLLOWS[M.QUEUED] == {M.QUEUED, M.SUBMITTED, M.DELIVERED, M.FAILED, M.EXPIRED}


def test_a_submitted_message_is_settled_or_queued_again_for_its_fallback_channel():
    assert FOLLOWS[M.SUBMITTED] == {
        M.DELIVERED, M.UNDELIVERABLE, M.EXPIRED, M.FAILED, M.QUEUED
    }  # fmt: skip


def test_a_message_is_born_queued_or_refused():
    assert {M.QUEUED, M.REJECTED, M.SKIPPED} == BORN


@pytest.mark.parametrize("final", [P.DELIVERED, P.UNDELIVERABLE, P.EXPIRED, P.FAILED])
def test_enroute_never_undoes_a_final_part_state(final):
    assert P.ENROUTE.outranked_by(final)
    assert not final.outranked_by(P.ENROUTE)


def test_the_first_final_part_state_stays():
    assert not P.DELIVERED.outranked_by(P.UNDELIVERABLE)
    assert not P.UNDELIVERABLE.outranked_by(P.DELIVERED)


def test_a_receipt_never_takes_a_part_back_to_submitted():
    assert P.SUBMITTED.outranked_by(P.SUBMITTED)
    assert not P.ENROUTE.outranked_by(P.SUBMITTED)


def test_a_message_is_delivered_once_all_its_parts_are():
    assert settled_by_parts([P.DELIVERED, P.DELIVERED], 2) is M.DELIVERED
    assert settled_by_parts([P.DELIVERED, P.ENROUTE], 2) is None
    assert settled_by_parts([P.DELIVERED], 2) is None  # a part not sent yet


def test_any_failing_part_decides_its_message():
    assert settled_by_parts([P.DELIVERED, P.UNDELIVERABLE], 2) is M.UNDELIVERABLE
    assert settled_by_parts([P.SUBMITTED, P.EXPIRED], 2) is M.EXPIRED
    assert settled_by_parts([P.UNDELIVERABLE, P.FAILED], 2) is M.FAILED


@pytest.mark.parametrize("parts", [[p] for p in PartState] + [[P.DELIVERED, p] for p in PartState])
def test_what_parts_settle_a_message_in_may_follow_submitted(parts):
    final = settled_by_parts(parts, len(parts))
    assert final is None or M.SUBMITTED.may_become(final)
