"""E-mail copies of notices ("letters"), as the parts of the gateway hand them on: a new
one for the store (`NewLetter`), a queued one for the mail sender (`QueuedLetter`), what
a send did (`LetterOutcome`).

A letter is a copy, never a fallback: it has states of its own (queued, then delivered
once the agency's mail server accepted it, failed when it refused it, expired when it
could not be handed over within the TTL; rejected at intake for a bad address), and its
statuses say `channel: email`. The notice it copies goes its own way by SMS or Zalo.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.domain.states import MessageState

# The states a letter may be in; it follows `MessageState`'s names for the same meanings.
LETTER_BORN = frozenset({MessageState.QUEUED, MessageState.REJECTED})
LETTER_AFTER_SENDING = frozenset(
    {MessageState.QUEUED, MessageState.DELIVERED, MessageState.FAILED, MessageState.EXPIRED}
)


@dataclass(frozen=True, slots=True)
class NewLetter:
    """A letter about to enter the store with the notice it copies."""

    agency: str
    ref: str  # the notice's ref: statuses of both carry the same id
    kind: str
    state: MessageState
    sender: str  # the From: the agency's `email_from`
    not_before: float
    expires_at: float
    address: str | None = None
    subject: str | None = None
    body: str | None = None  # always with its diacritics
    qr: str | None = None  # the text of the receipt's QR code (the receipt notice's)
    reason: str | None = None
    event_id: str | None = None
    receipt_no: str | None = None
    procedure: str | None = None

    def __post_init__(self) -> None:
        if self.state not in LETTER_BORN:
            raise ValueError(f"a new letter cannot be {self.state.value!r}")


@dataclass(frozen=True, slots=True)
class QueuedLetter:
    """A queued letter as the mail sender needs it."""

    id: int
    agency: str
    ref: str
    kind: str
    address: str
    sender: str
    subject: str
    body: str
    qr: str | None
    attempts: int
    expires_at: float
    event_id: str | None
    receipt_no: str | None


@dataclass(frozen=True, slots=True)
class LetterOutcome:
    """What one send of a letter did: queued again (a retry) or final."""

    letter: QueuedLetter
    state: MessageState
    attempts: int
    not_before: float
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.state not in LETTER_AFTER_SENDING:
            raise ValueError(f"a letter's send cannot leave it {self.state.value!r}")
