"""Delivery receipts → the parts they report on → the message's final state.

Receipts are committed in groups; `record` returns only after the commit, so the session
answers deliver_sm_resp only for what is safely stored.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from gateway.batch import Batcher
from gateway.smpp.receipt import Receipt, ReceiptState, message_id_keys
from gateway.store import Store

# Receipt state → part state. Not-yet-final states (ENROUTE, ACCEPTD, UNKNOWN) are kept
# on the part but settle nothing.
PART_STATES: Mapping[ReceiptState, str] = MappingProxyType(
    {
        ReceiptState.DELIVERED: "delivered",
        ReceiptState.UNDELIVERABLE: "undeliverable",
        ReceiptState.EXPIRED: "expired",
        ReceiptState.REJECTED: "failed",
        ReceiptState.DELETED: "failed",
        ReceiptState.ENROUTE: "enroute",
        ReceiptState.ACCEPTED: "enroute",
        ReceiptState.UNKNOWN: "enroute",
    }
)


class Tracker:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._batcher: Batcher[tuple[frozenset[str], str, str | None]] = Batcher(self._commit)
        self.by_state: Counter[str] = Counter()  # receipts stored, by receipt state

    async def __aenter__(self) -> Tracker:
        await self._batcher.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._batcher.__aexit__(*exc)

    async def record(self, receipt: Receipt) -> None:
        state = PART_STATES[receipt.state]
        error = None if state == "delivered" else _reason(receipt)
        await self._batcher.put((message_id_keys(receipt.message_id), state, error))
        self.by_state[receipt.state.value] += 1

    async def _commit(self, items: Sequence[tuple[frozenset[str], str, str | None]]) -> None:
        await self._store.record_receipts(items)


def _reason(receipt: Receipt) -> str:
    reason = f"receipt: {receipt.state.value}"
    if receipt.error and receipt.error.strip("0"):
        reason += f" err:{receipt.error}"
    return reason
