"""Long MOs put back together: any order, duplicates, timeouts and eviction, on a fake clock."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.smpp.reassembly import Assembled, Fragment, Reassembler

CITIZEN = "84905123456"
OTHER_CITIZEN = "84869123456"
SHORTCODE = "8083"
# A citizen's lookup long enough to need three parts.
PARTS = ["MCKH 000.00.06.H56-231027-0361 ", "xin hoi ho so cua toi ", "da co ket qua chua"]
WHOLE = "".join(PARTS)


class FakeClock:
    """Time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def reassembler(clock: FakeClock) -> Reassembler:
    return Reassembler(timeout=60.0, max_pending=100, clock=clock)


def part(
    seqnum: int,
    *,
    total: int = len(PARTS),
    reference: int = 42,
    source: str = CITIZEN,
    destination: str = SHORTCODE,
    text: str | None = None,
) -> Fragment:
    if text is None:
        text = PARTS[seqnum - 1] if 1 <= seqnum <= len(PARTS) else f"<{seqnum}>"
    return Fragment(
        source=source,
        destination=destination,
        reference=reference,
        total=total,
        seqnum=seqnum,
        text=text,
    )


def feed(reassembler: Reassembler, fragments: list[Fragment]) -> list[Assembled]:
    return [out for fragment in fragments if (out := reassembler.add(fragment)) is not None]


def whole(text: str = WHOLE, parts: int = len(PARTS), source: str = CITIZEN) -> Assembled:
    return Assembled(source=source, destination=SHORTCODE, text=text, complete=True, parts=parts)


# -- completing a message ----------------------------------------------------------------


def test_parts_in_order_give_the_whole_message_on_the_last_part(reassembler: Reassembler):
    """Nothing is returned until the last part; then the whole text, complete."""
    assert reassembler.add(part(1)) is None
    assert reassembler.add(part(2)) is None
    assert reassembler.add(part(3)) == whole()
    assert len(reassembler) == 0


def test_parts_in_reverse_order_are_joined_by_seqnum(reassembler: Reassembler):
    """The SMSC may deliver the last part first: text is joined by seqnum, not arrival."""
    assert feed(reassembler, [part(3), part(2), part(1)]) == [whole()]


@given(order=st.permutations([1, 2, 3, 4, 5]))
def test_any_arrival_order_gives_the_same_message(order: list[int]):
    """Every permutation of the parts yields exactly one message, text in seqnum order."""
    reassembler = Reassembler(clock=FakeClock())
    fragments = [part(n, total=5, text=f"[{n}]") for n in order]
    assert feed(reassembler, fragments) == [whole("[1][2][3][4][5]", parts=5)]
    assert len(reassembler) == 0


def test_single_part_message_is_returned_at_once(reassembler: Reassembler):
    """total == 1 needs no waiting and leaves nothing pending."""
    assert reassembler.add(part(1, total=1, text="MCKH 0101701234")) == whole(
        "MCKH 0101701234", parts=1
    )
    assert len(reassembler) == 0
    assert reassembler.next_deadline() is None


def test_total_of_zero_is_treated_as_a_whole_message(reassembler: Reassembler):
    """A nonsensical total of 0 cannot be waited for: the text is handed over at once."""
    assert reassembler.add(part(0, total=0, text="MCKH 1")) == whole("MCKH 1", parts=1)


# -- duplicates ---------------------------------------------------------------------------


def test_repeated_part_keeps_the_first_text(reassembler: Reassembler):
    """A resent part (our deliver_sm_resp was lost) is ignored; the first copy counts."""
    out = feed(reassembler, [part(1), part(2), part(2, text="changed"), part(3)])
    assert out == [whole()]


def test_repeated_part_does_not_complete_a_message(reassembler: Reassembler):
    """Three copies of part 1 are still one part of three."""
    assert feed(reassembler, [part(1), part(1), part(1)]) == []
    assert len(reassembler) == 1


def test_late_resend_after_completion_is_ignored(reassembler: Reassembler, clock: FakeClock):
    """A part resent just after its message completed starts no stray message."""
    feed(reassembler, [part(1), part(2), part(3)])
    clock.advance(5)
    assert reassembler.add(part(2)) is None
    assert len(reassembler) == 0
    clock.advance(120)
    assert reassembler.expire() == []


def test_reused_reference_with_new_text_after_completion_is_a_new_message(
    reassembler: Reassembler,
):
    """Same sender and reference but different text is a new message, not a resend."""
    feed(reassembler, [part(1), part(2), part(3)])
    out = feed(reassembler, [part(1, total=2, text="A"), part(2, total=2, text="B")])
    assert out == [whole("AB", parts=2)]
    out = feed(reassembler, [part(1, text="x"), part(2, text="y"), part(3, text="z")])
    assert out == [whole("xyz")]


# -- keeping messages apart ----------------------------------------------------------------


def test_two_senders_with_the_same_reference_are_two_messages(reassembler: Reassembler):
    """Interleaved parts from two phones with the same reference never mix."""
    mine = [part(n, source=CITIZEN) for n in (1, 2, 3)]
    theirs = [part(n, source=OTHER_CITIZEN, text=f"<{n}>") for n in (1, 2, 3)]
    out = feed(reassembler, [mine[0], theirs[2], theirs[0], mine[2], theirs[1], mine[1]])
    assert out == [whole("<1><2><3>", source=OTHER_CITIZEN), whole()]


def test_same_sender_to_two_shortcodes_are_two_messages(reassembler: Reassembler):
    """The destination is part of the key: a message to 8083 and one to 8084 stay apart."""
    assert reassembler.add(part(1, destination="8084")) is None
    assert feed(reassembler, [part(1), part(2), part(3)]) == [whole()]
    assert len(reassembler) == 1


def test_different_references_from_one_sender_are_two_messages(reassembler: Reassembler):
    """Two long messages from one phone, parts interleaved, come out separately."""
    a = [part(n, reference=1, total=2, text=f"a{n}") for n in (1, 2)]
    b = [part(n, reference=2, total=2, text=f"b{n}") for n in (1, 2)]
    out = feed(reassembler, [a[0], b[0], b[1], a[1]])
    assert out == [whole("b1b2", parts=2), whole("a1a2", parts=2)]


def test_part_with_a_different_total_does_not_join_the_group(reassembler: Reassembler):
    """Total is part of the key: a part claiming 2 parts does not complete a 3-part group."""
    assert feed(reassembler, [part(1), part(2, total=2, text="odd")]) == []
    assert feed(reassembler, [part(2), part(3)]) == [whole()]
    assert len(reassembler) == 1


@pytest.mark.parametrize("seqnum", [0, 4, 255, -1])
def test_seqnum_out_of_range_is_kept_apart(reassembler: Reassembler, seqnum: int):
    """A seqnum outside 1..total can belong to no message: it does not disturb the group."""
    assert reassembler.add(part(seqnum, text="stray")) is None
    assert feed(reassembler, [part(1), part(2), part(3)]) == [whole()]


def test_stray_part_comes_out_as_partial_after_the_timeout(
    reassembler: Reassembler, clock: FakeClock
):
    """A stray part never completes; its text still reaches the handler, marked incomplete."""
    reassembler.add(part(0, text="stray"))
    reassembler.add(part(0, text="stray"))
    clock.advance(60)
    assert reassembler.expire() == [
        Assembled(source=CITIZEN, destination=SHORTCODE, text="stray", complete=False, parts=1)
    ]


# -- timeouts ----------------------------------------------------------------------------


def test_incomplete_message_expires_as_partial_text(reassembler: Reassembler, clock: FakeClock):
    """After the timeout, the parts that came are handed over in order, complete=False."""
    feed(reassembler, [part(3), part(1)])
    clock.advance(60)
    assert reassembler.expire() == [
        Assembled(
            source=CITIZEN,
            destination=SHORTCODE,
            text=PARTS[0] + PARTS[2],
            complete=False,
            parts=2,
        )
    ]
    assert len(reassembler) == 0


def test_nothing_expires_before_the_timeout(reassembler: Reassembler, clock: FakeClock):
    """A group younger than the timeout stays pending."""
    reassembler.add(part(1))
    clock.advance(59.9)
    assert reassembler.expire() == []
    assert len(reassembler) == 1


def test_timeout_counts_from_the_first_part(reassembler: Reassembler, clock: FakeClock):
    """Later parts do not extend the deadline: a trickle of parts cannot hold a group forever."""
    reassembler.add(part(1))
    clock.advance(50)
    reassembler.add(part(2))
    clock.advance(10)
    assert [a.parts for a in reassembler.expire()] == [2]


def test_expired_message_is_handed_over_once(reassembler: Reassembler, clock: FakeClock):
    """Once returned by expire(), a group is forgotten; a later part starts afresh."""
    reassembler.add(part(1))
    clock.advance(60)
    assert len(reassembler.expire()) == 1
    assert reassembler.expire() == []
    assert reassembler.add(part(2)) is None
    assert len(reassembler) == 1


def test_expire_returns_only_the_groups_due_oldest_first(
    reassembler: Reassembler, clock: FakeClock
):
    """Older groups go first; a group still within its timeout stays."""
    reassembler.add(part(1, reference=1, text="first"))
    clock.advance(10)
    reassembler.add(part(1, reference=2, text="second"))
    clock.advance(10)
    reassembler.add(part(1, reference=3, text="third"))
    clock.advance(50)
    assert [a.text for a in reassembler.expire()] == ["first", "second"]
    assert len(reassembler) == 1


def test_next_deadline_is_when_the_oldest_group_expires(reassembler: Reassembler, clock: FakeClock):
    """The caller's timer is set from the oldest group's first part plus the timeout."""
    assert reassembler.next_deadline() is None
    start = clock.now
    reassembler.add(part(1, reference=1))
    clock.advance(5)
    reassembler.add(part(1, reference=2))
    assert reassembler.next_deadline() == start + 60
    clock.advance(55)
    reassembler.expire()
    assert reassembler.next_deadline() == start + 5 + 60


def test_next_deadline_is_none_once_everything_completed(reassembler: Reassembler):
    """Completed messages leave no deadline behind."""
    feed(reassembler, [part(1), part(2), part(3)])
    assert reassembler.next_deadline() is None


# -- eviction ----------------------------------------------------------------------------


def test_eviction_hands_the_oldest_group_to_the_next_expire(clock: FakeClock):
    """At max_pending, a new group pushes out the oldest, which expire() returns as partial."""
    reassembler = Reassembler(timeout=60.0, max_pending=2, clock=clock)
    reassembler.add(part(1, reference=1, text="oldest"))
    reassembler.add(part(1, reference=2, text="middle"))
    reassembler.add(part(1, reference=3, text="newest"))
    assert len(reassembler) == 2
    assert reassembler.expire() == [
        Assembled(source=CITIZEN, destination=SHORTCODE, text="oldest", complete=False, parts=1)
    ]


def test_evicted_group_makes_the_deadline_due_now(clock: FakeClock):
    """With an evicted message waiting, next_deadline() has passed, so the timer fires at once."""
    reassembler = Reassembler(timeout=60.0, max_pending=1, clock=clock)
    reassembler.add(part(1, reference=1))
    reassembler.add(part(1, reference=2))
    deadline = reassembler.next_deadline()
    assert deadline is not None and deadline <= clock.now


def test_parts_for_an_existing_group_never_evict(clock: FakeClock):
    """Only a new group counts against max_pending; completing one frees its place."""
    reassembler = Reassembler(timeout=60.0, max_pending=1, clock=clock)
    assert feed(reassembler, [part(1), part(2), part(3)]) == [whole()]
    assert reassembler.expire() == []


def test_evicted_part_arriving_late_starts_a_new_group(clock: FakeClock):
    """After eviction the rest of a message forms a new group: both halves reach the handler."""
    reassembler = Reassembler(timeout=60.0, max_pending=1, clock=clock)
    reassembler.add(part(1, reference=1, total=2, text="a1"))
    reassembler.add(part(1, reference=2, total=2, text="b1"))
    reassembler.add(part(2, reference=1, total=2, text="a2"))
    clock.advance(60)
    assert [a.text for a in reassembler.expire()] == ["a1", "b1", "a2"]


# -- construction ------------------------------------------------------------------------


@pytest.mark.parametrize(("timeout", "max_pending"), [(-1.0, 10), (60.0, 0)])
def test_nonsense_limits_are_refused(timeout: float, max_pending: int):
    """A negative timeout or no room for a single group is a configuration error."""
    with pytest.raises(ValueError):
        Reassembler(timeout=timeout, max_pending=max_pending)


@given(
    st.lists(
        st.builds(
            Fragment,
            source=st.sampled_from(["a", "b"]),
            destination=st.just(SHORTCODE),
            reference=st.integers(0, 3),
            total=st.integers(-1, 4),
            seqnum=st.integers(-1, 5),
            text=st.sampled_from(["x", "y"]),
        ),
        max_size=40,
    ),
    st.lists(st.floats(0, 30), max_size=40),
)
def test_no_input_raises_and_nothing_is_held_past_the_timeout(
    fragments: list[Fragment], steps: list[float]
):
    """Any sequence of parts: add never raises, and after the timeout nothing is pending."""
    clock = FakeClock()
    reassembler = Reassembler(timeout=60.0, max_pending=3, clock=clock)
    for index, fragment in enumerate(fragments):
        reassembler.add(fragment)
        if index < len(steps):
            clock.advance(steps[index])
        reassembler.expire()
    clock.advance(60)
    reassembler.expire()
    assert len(reassembler) == 0
    assert reassembler.next_deadline() is None
