"""Status outbox rows are deleted only up to the oldest one the broker has not confirmed."""

from gateway.publisher import _Progress


def test_rows_count_as_published_only_up_to_the_oldest_unconfirmed():
    progress = _Progress()
    for seq in (1, 2, 3, 4):
        progress.sent(seq)

    progress.done(2)
    progress.done(3)
    before = progress.acked
    progress.done(1)

    assert before == 0
    assert progress.acked == 3


def test_nothing_counts_as_published_before_any_confirmation():
    progress = _Progress()
    progress.sent(7)

    assert progress.acked == 0
