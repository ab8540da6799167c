"""The one back-off schedule: how long to wait before the next try of something that failed.

Every retry loop of the gateway (restarting a failed part, committing to a store that
refuses writes, reconnecting to the broker or the SMSC, resending a message) waits the
same way: the first delay, then twice as long after each further failure, up to a cap.
With jitter, each delay is drawn from the upper half of that step (`[d/2, d]`): never
zero, and many clients that failed together (a broker restart, an SMSC outage) do not
come back in step. Each caller keeps its own counter of failures, because what resets it
differs (a connection that stayed up, a part that ran long, a message's stored attempts).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["Backoff"]

# Past this many doublings every practical cap is reached; bounding the exponent keeps
# a counter that grew for weeks from overflowing the float.
_MAX_DOUBLINGS = 64


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential delays in seconds: `first`, `2 * first`, ... up to `cap`.

    `jitter=False` gives the steps themselves, for loops where one waiter cannot meet
    others in step (a single store, a single supervised part).
    """

    first: float
    cap: float
    jitter: bool = True

    def __post_init__(self) -> None:
        if not (self.first > 0 and self.cap > 0):
            raise ValueError(f"back-off delays must be positive, got {self.first}, {self.cap}")

    def step(self, failures: int) -> float:
        """The delay's upper bound after `failures` earlier failures (0: the first wait)."""
        doublings = min(max(failures, 0), _MAX_DOUBLINGS)
        return min(self.cap, self.first * 2.0**doublings)

    def delay(self, failures: int, rng: random.Random | None = None) -> float:
        """The wait after `failures` earlier failures: `step`, jittered over its upper half."""
        ceiling = self.step(failures)
        if not self.jitter:
            return ceiling
        uniform = random.uniform if rng is None else rng.uniform
        return uniform(ceiling / 2, ceiling)
