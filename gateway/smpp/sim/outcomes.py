"""Which answer each submit_sm gets: the rules by destination, the TPS cap, and the
transient failures counted per destination."""

from __future__ import annotations

import fnmatch
from collections import deque
from collections.abc import Sequence

from gateway.smpp.codes import Status
from gateway.smpp.sim.config import Rule, SimConfig


class Outcomes:
    """The simulator's decisions; state is the TPS window and what each transient rule
    has left to refuse. The configuration is read at each decision: a test may change
    `smsc.config.rules` or `tps` while sessions are bound."""

    def __init__(self) -> None:
        self._transient_left: dict[tuple[str, str], int] = {}
        self._accepted: deque[float] = deque()

    @staticmethod
    def rule_for(rules: Sequence[Rule], destination: str) -> Rule | None:
        """The first rule whose pattern matches `destination` (None: deliver)."""
        for rule in rules:
            if fnmatch.fnmatchcase(destination, rule.pattern):
                return rule
        return None

    def decide(
        self, config: SimConfig, destination: str, rule: Rule | None, now: float
    ) -> tuple[int, str | None]:
        """(submit_sm_resp status, receipt outcome or None)."""
        tps = config.tps
        if tps > 0:
            while self._accepted and self._accepted[0] <= now - 1.0:
                self._accepted.popleft()
            if len(self._accepted) >= tps:
                return Status.ESME_RTHROTTLED, None
            self._accepted.append(now)
        if rule is None:
            return Status.ESME_ROK, "deliver"
        outcome = rule.outcome
        if outcome == "reject":
            return rule.status or Status.ESME_RINVDSTADR, None
        if outcome == "transient":
            key = (rule.pattern, destination)
            left = self._transient_left.setdefault(key, rule.count)
            if left > 0:
                self._transient_left[key] = left - 1
                return rule.status or Status.ESME_RMSGQFUL, None
            return Status.ESME_ROK, "deliver"
        if outcome in ("no_receipt", "no_response"):
            return Status.ESME_ROK, None
        if outcome == "nack":
            return rule.status, None
        return Status.ESME_ROK, outcome
