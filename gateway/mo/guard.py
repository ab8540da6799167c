"""Which MOs get no answer: a number over its rate, or the same MO delivered again.

Each answer is an SMS we pay for and each MO one the citizen paid for; a misbehaving
phone, a script, or an SMSC redelivering what we already acknowledged must not turn
into a stream of replies. State is in memory and primed from the MO log at start-up,
so a restart does not reset it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from gateway.mo.api import Outcome


class MoGuard:
    def __init__(self, *, rate_limit: int, rate_window: float, duplicate_window: float) -> None:
        self._rate_limit = rate_limit
        self._rate_window = rate_window
        self._duplicate_window = duplicate_window
        self._answered: dict[str, deque[float]] = {}
        self._seen: dict[tuple[str, str], float] = {}

    def retune(self, *, rate_limit: int, rate_window: float, duplicate_window: float) -> None:
        """New limits (SIGHUP), keeping what was seen: a number's MOs still count against
        it. A window made longer counts only what the shorter one still held."""
        self._rate_limit = rate_limit
        self._rate_window = rate_window
        self._duplicate_window = duplicate_window

    def prime(self, history: Iterable[tuple[float, str, str, str]]) -> None:
        """Replay (at, sender, text, outcome) rows from the MO log, oldest first."""
        for at, sender, text, outcome in history:
            self._seen[(sender, text)] = at
            if outcome in ANSWERED:
                self._answered.setdefault(sender, deque()).append(at)

    def refuse(self, sender: str, text: str, now: float) -> str | None:
        """None to answer, else why not (`duplicate`, `rate_limited`). Counts the MO."""
        self._forget(now)
        key = (sender, text)
        last = self._seen.get(key)
        self._seen[key] = now
        if last is not None and now - last <= self._duplicate_window:
            return "duplicate"
        times = self._answered.setdefault(sender, deque())
        while times and now - times[0] > self._rate_window:
            times.popleft()
        if len(times) >= self._rate_limit:
            return "rate_limited"
        times.append(now)
        return None

    def undo(self, sender: str, text: str, at: float) -> None:
        """Take back what `refuse(sender, text, at)` counted: the MO was not stored (its
        sender will deliver it again, and that one is the MO to answer)."""
        key = (sender, text)
        if self._seen.get(key) == at:
            del self._seen[key]
        times = self._answered.get(sender)
        if times and times[-1] == at:
            times.pop()

    def _forget(self, now: float) -> None:
        """Drop what no longer matters, so memory stays bounded by recent traffic."""
        if len(self._seen) > 10_000:
            horizon = now - self._duplicate_window
            self._seen = {k: t for k, t in self._seen.items() if t >= horizon}
            horizon = now - self._rate_window
            self._answered = {
                s: times for s, times in self._answered.items() if times and times[-1] >= horizon
            }


# Outcomes that sent a reply, and so count against the number's rate: every handler
# outcome, and the dispatcher's own replies (not understood, a handler that failed).
ANSWERED = frozenset({*(o.value for o in Outcome), "not_understood", "handler_error"})
