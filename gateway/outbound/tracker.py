"""Delivery receipts → the parts they report on → the message's final state.

Receipts are committed in groups; `record` returns only after the commit, so the session
answers deliver_sm_resp only for what is safely stored. A message whose final receipt
never comes is expired by `expire_unreceipted`, a sweep every `sweep_interval` seconds.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

import structlog

from gateway.domain.message import ReceiptUpdate
from gateway.domain.states import PartState
from gateway.settings.links import DEFAULT_LINK
from gateway.smpp.account import receipt_keys
from gateway.smpp.receipt import Receipt, ReceiptState
from gateway.store.batch import Batcher
from gateway.store.receipts import EARLY_RECEIPT_TTL, Receipts

log = structlog.get_logger("gateway.outbound.tracker")

# The expiry sweep runs this often, seconds: an expiry is late by at most a tenth of the
# timeout, never more than a minute, and never polls faster than ten times a second.
SWEEP_MIN = 0.1
SWEEP_MAX = 60.0

# A final receipt state → the part's final state. Every receipt state that is not final
# (`ReceiptState.final`: ENROUTE, ACCEPTD, UNKNOWN) is kept on the part as ENROUTE, and
# settles nothing.
FINAL_PART_STATES: Mapping[ReceiptState, PartState] = MappingProxyType(
    {
        ReceiptState.DELIVERED: PartState.DELIVERED,
        ReceiptState.UNDELIVERABLE: PartState.UNDELIVERABLE,
        ReceiptState.EXPIRED: PartState.EXPIRED,
        ReceiptState.REJECTED: PartState.FAILED,
        ReceiptState.DELETED: PartState.FAILED,
    }
)


def part_state(state: ReceiptState) -> PartState:
    """The part state a receipt of `state` gives its part."""
    return FINAL_PART_STATES[state] if state.final else PartState.ENROUTE


class Tracker:
    """Receipts in, committed in groups to the `Receipts` repository."""

    def __init__(self, receipts: Receipts) -> None:
        self._receipts = receipts
        self._batcher: Batcher[ReceiptUpdate] = Batcher(self._commit)
        self.by_state: Counter[str] = Counter()  # receipts stored, by receipt state

    async def __aenter__(self) -> Tracker:
        await self._batcher.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._batcher.__aexit__(*exc)

    async def record(self, receipt: Receipt, link: str = DEFAULT_LINK) -> None:
        """Store a receipt that came in on `link` (any session of its account): it is
        matched among the parts sent by that link only, since ids are unique per SMSC."""
        state = part_state(receipt.state)
        error = None if state is PartState.DELIVERED else _reason(receipt)
        await self._batcher.put(
            ReceiptUpdate(receipt_keys(link, receipt.message_id), state.value, error)
        )
        self.by_state[receipt.state.value] += 1

    async def _commit(self, items: Sequence[ReceiptUpdate]) -> None:
        await self._receipts.record_receipts(items)


def _reason(receipt: Receipt) -> str:
    reason = f"receipt: {receipt.state.value}"
    if receipt.error and receipt.error.strip("0"):
        reason += f" err:{receipt.error}"
    return reason


def sweep_interval(receipt_timeout: float) -> float:
    return min(SWEEP_MAX, max(SWEEP_MIN, receipt_timeout / 10))


async def expire_unreceipted(
    receipts: Receipts,
    receipt_timeout: float,
    *,
    receiving: Callable[[], Mapping[str, bool]] = lambda: {},
) -> None:
    """Until cancelled: messages submitted `receipt_timeout` seconds ago without a final
    receipt become `expired` ("no delivery receipt"), receipts that matched nothing for
    EARLY_RECEIPT_TTL are forgotten. A backlog goes in transactions of a thousand.

    Per link (`receiving`: each link's id and whether it is bound): a link's messages
    wait only while that link cannot deliver their receipts, and until it has been able
    to for a whole interval: after a bind, an SMSC first delivers the receipts it kept
    while the gateway was away, and those settle their messages before the sweep gives
    up on them. Another link being down holds nothing of this one's.
    """
    interval = min(sweep_interval(receipt_timeout), EARLY_RECEIPT_TTL)
    was_receiving: Mapping[str, bool] = {}
    while True:
        await asyncio.sleep(interval)
        now_receiving = dict(receiving())
        paused = sorted(
            link for link, bound in now_receiving.items()
            if not (bound and was_receiving.get(link, False))
        )  # fmt: skip
        while expired := await receipts.expire_unreceipted(receipt_timeout, paused=paused):
            log.warning("receipts_never_came", expired=expired, timeout=receipt_timeout)
        was_receiving = now_receiving
