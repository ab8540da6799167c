"""A message of several parts takes a concatenation reference of its own number's
sequence; a one-part message has no concatenation header, so it takes none (and its
number no place in the allocator's table: a day's queue of one-part notices held
100,000 of them in memory)."""

from __future__ import annotations

from gateway.app import composer_settings
from gateway.compose.composer import Composer
from tests.support.clock import NOON, Clock
from tests.support.outbox import without_quiet_hours

LONG = "Thong bao " * 20  # 200 GSM-7 characters: two parts


def composer() -> Composer:
    return Composer(composer_settings(without_quiet_hours()), clock=Clock(NOON))


def test_a_one_part_message_takes_no_concatenation_reference():
    c = composer()
    messages = [c.text("SCT", ref=f"j{n}", kind="sms", to="0905123456", text="Thong bao")
                for n in range(3)]  # fmt: skip
    assert [(m.segments, m.concat_ref) for m in messages] == [(1, 0)] * 3


def test_messages_of_several_parts_to_one_number_take_successive_references():
    c = composer()
    first, second = (c.text("SCT", ref=f"j{n}", kind="sms", to="0905123456", text=LONG)
                     for n in range(2))  # fmt: skip
    assert (first.segments, second.segments) == (2, 2)
    assert second.concat_ref == (first.concat_ref + 1) % 256


def test_one_part_messages_between_long_ones_leave_the_sequence_alone():
    c = composer()
    first = c.text("SCT", ref="a", kind="sms", to="0905123456", text=LONG)
    c.text("SCT", ref="b", kind="sms", to="0905123456", text="Thong bao")
    third = c.text("SCT", ref="c", kind="sms", to="0905123456", text=LONG)
    assert third.concat_ref == (first.concat_ref + 1) % 256
