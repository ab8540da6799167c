"""Many examples of a hypothesis strategy as a plain list, for tests that send them all.

A fault test publishes thousands of generated payloads to a running daemon; drawing them
up front (derandomized, so a failure reproduces) keeps hypothesis out of the event loop.
"""

from __future__ import annotations

from typing import TypeVar

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

# Examples drawn per hypothesis run.
BATCH = 50

T = TypeVar("T")


def generate(strategy: st.SearchStrategy[T], count: int) -> list[T]:
    """`count` examples of `strategy`, drawn in batches through @given."""
    out: list[T] = []

    @settings(
        max_examples=count // BATCH,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(strategy, min_size=BATCH, max_size=BATCH))
    def draw(batch: list[T]) -> None:
        out.extend(batch)

    draw()
    return out[:count]
