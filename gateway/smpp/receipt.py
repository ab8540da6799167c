"""Delivery receipts: what the carrier says became of a message, and whose message it was.

A receipt arrives as a deliver_sm (or data_sm) whose short_message holds the text form of
SMPP 3.4 Appendix B::

    id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm
    stat:DDDDDDD err:E text: . . .

and, from SMPP 3.4 carriers that bother, the TLVs receipted_message_id, message_state and
network_error_code. Appendix B is only "an example", so every carrier writes its own dialect:
keys in any order or case, `submit_date` with an underscore, `stat:delivrd` in lower case,
no `err`, `Text:` quoting the start of the message (which may itself contain `id:`), ids with
letters and dashes. The parser takes all of those; the TLVs, being typed, win when present.

The message id in a receipt is not always written the way submit_sm_resp wrote it (hex in
one, decimal in the other, leading zeros or not, any case): `message_id_keys` gives the
keys under which the two are matched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class ReceiptState(StrEnum):
    """The `stat` of a receipt; the value is the Appendix B spelling.

    `code` is the message_state TLV value (SMPP 3.4 §5.2.28) for the same state.
    """

    ENROUTE = "ENROUTE"
    DELIVERED = "DELIVRD"
    EXPIRED = "EXPIRED"
    DELETED = "DELETED"
    UNDELIVERABLE = "UNDELIV"
    ACCEPTED = "ACCEPTD"
    UNKNOWN = "UNKNOWN"
    REJECTED = "REJECTD"

    @property
    def code(self) -> int:
        """The message_state TLV value for this state."""
        return _CODE_OF[self]

    @property
    def final(self) -> bool:
        """True when no later receipt will change the message's fate.

        ENROUTE is the SMSC still retrying. ACCEPTD is final in the 3.4 text, but carriers
        (Vietnamese ones included) send it as "taken by the SMSC" and follow it with
        DELIVRD or UNDELIV, so it is not final here. UNKNOWN is not final either: the
        message keeps waiting for a better receipt and, failing one, for its own expiry.
        """
        return self not in _NOT_FINAL

    @classmethod
    def from_code(cls, code: int) -> ReceiptState | None:
        """The state for a message_state TLV value; None for a value 3.4 does not define."""
        return _STATE_OF_CODE.get(code)

    @classmethod
    def from_stat(cls, stat: str) -> ReceiptState:
        """The state for a `stat:` value as any carrier writes it; UNKNOWN when unrecognised."""
        word = stat.strip().upper().replace("-", "_")
        state = _STATE_OF_STAT.get(word)
        if state is None and word.isascii() and word.isdigit() and len(word) <= 2:
            state = _STATE_OF_CODE.get(int(word))
        return state or cls.UNKNOWN


_CODE_OF: dict[ReceiptState, int] = {
    ReceiptState.ENROUTE: 1,
    ReceiptState.DELIVERED: 2,
    ReceiptState.EXPIRED: 3,
    ReceiptState.DELETED: 4,
    ReceiptState.UNDELIVERABLE: 5,
    ReceiptState.ACCEPTED: 6,
    ReceiptState.UNKNOWN: 7,
    ReceiptState.REJECTED: 8,
}
_STATE_OF_CODE: dict[int, ReceiptState] = {code: state for state, code in _CODE_OF.items()}
_NOT_FINAL = frozenset({ReceiptState.ENROUTE, ReceiptState.ACCEPTED, ReceiptState.UNKNOWN})

# Spellings seen in the wild besides the Appendix B ones. FAILED (some aggregators) means
# the SMSC gave up on the message, which is what UNDELIV means.
_STATE_OF_STAT: dict[str, ReceiptState] = {
    **{state.value: state for state in ReceiptState},
    "EN_ROUTE": ReceiptState.ENROUTE,
    "DELIVERED": ReceiptState.DELIVERED,
    "DELIVRED": ReceiptState.DELIVERED,
    "UNDELIVERABLE": ReceiptState.UNDELIVERABLE,
    "UNDELIVERED": ReceiptState.UNDELIVERABLE,
    "UNDELIVRD": ReceiptState.UNDELIVERABLE,
    "FAILED": ReceiptState.UNDELIVERABLE,
    "ACCEPTED": ReceiptState.ACCEPTED,
    "REJECTED": ReceiptState.REJECTED,
}


@dataclass(frozen=True, slots=True)
class Receipt:
    """One delivery receipt, as far as the carrier filled it in.

    `message_id` is the carrier's id as written (trimmed); match it to a submitted part with
    `message_id_keys`, never by string equality. It is "" when the receipt carried a state
    but no id. `error` is the `err:` value as written (e.g. "000"), or the
    network_error_code TLV rendered as "<network type>:0x<code>" (e.g. "GSM:0x0b").
    Dates are the raw `submit date`/`done date` strings (YYMMDDhhmm[ss]), because their
    time zone is the SMSC's and nobody says which.
    """

    message_id: str
    state: ReceiptState
    error: str | None
    submitted_at: str | None
    done_at: str | None
    delivered_parts: int | None
    text: str | None


# network_error_code's first octet (SMPP 3.4 §5.3.2.31).
_NETWORK_TYPES: dict[int, str] = {
    1: "ANSI-136-ADR",
    2: "IS-95-ADR",
    3: "GSM",
    4: "ANSI-136",
    5: "IS-95",
    6: "ANSI-41",
    7: "SMPP",
    8: "MC",
}

# A key starts the text or follows a separator, so that `id:` inside `msgid:` or inside
# another value is not taken for a key. "submit date" may be written with a space, an
# underscore or nothing between the words.
_KEY = re.compile(
    r"(?<![^\s,;])(id|sub|dlvrd|submit[ _]*date|done[ _]*date|stat|err|text)[ \t]*:",
    re.IGNORECASE | re.ASCII,
)
_SEPARATORS = " \t\r\n,;"
# Python refuses int() on digit strings over 4,300 characters: keep numbers short.
_MAX_DIGITS = 9


def parse_receipt(
    short_message: bytes | str | None,
    *,
    receipted_message_id: str | bytes | None = None,
    message_state: int | None = None,
    network_error_code: bytes | None = None,
) -> Receipt | None:
    """Read a receipt from its text and TLVs; None when it names neither a message nor a state.

    Each TLV, when present and meaningful, wins over the same field in the text: it is typed
    and cannot be mangled by a carrier's formatting. A message_state outside 1..8 and a
    network_error_code that is not 3 octets are ignored, and the text is used instead.
    Never raises: a receipt is input from outside, and a bad one must cost one receipt, not
    the session.
    """
    fields = _text_fields(_as_text(short_message))

    message_id = _tlv_id(receipted_message_id) or _first_token(fields.get("id"))
    state = None
    if isinstance(message_state, int) and not isinstance(message_state, bool):
        state = ReceiptState.from_code(message_state)
    stat = _first_token(fields.get("stat"))
    if state is None and stat:
        state = ReceiptState.from_stat(stat)
    if not message_id and state is None:
        return None

    error = _network_error(network_error_code) or _first_token(fields.get("err"))
    return Receipt(
        message_id=message_id,
        state=state or ReceiptState.UNKNOWN,
        error=error or None,
        submitted_at=_first_token(fields.get("submit date")) or None,
        done_at=_first_token(fields.get("done date")) or None,
        delivered_parts=_count(fields.get("dlvrd")),
        text=fields.get("text"),
    )


def message_id_keys(message_id: str) -> frozenset[str]:
    """The keys a message id is matched by; two ids are the same message when keys intersect.

    Carriers write an id in hex in submit_sm_resp and in decimal in the receipt (or the
    other way round), with or without leading zeros, in either case. So, on the trimmed,
    lower-cased id:

    - always ``s:<the id without leading zeros>`` (`exact_key`): the id as written;
    - all hex digits (at most 32, i.e. 128 bits): also ``n:<its value read as hex>``;
    - all decimal digits (at most 40): also ``n:<its value read as decimal>``.

    An all-digit id gets two numeric keys because nothing says which base it is in. The
    price is that two different ids can share a key: decimal "16" and hex "10" are both
    16, and a carrier counting in hex has "0A" and "10" outstanding at once. So a caller
    holding several candidates prefers the one sharing the ``s:`` key, the same string
    (`gateway.store.receipts.apply_receipts` does); the numeric keys find the part when
    the carrier wrote the id in the other base.
    """
    s = message_id.strip().strip("\x00").strip().lower() if isinstance(message_id, str) else ""
    if not s:
        return frozenset()
    keys = {f"{EXACT}{s.lstrip('0')}"}
    if len(s) <= 32 and _HEX.fullmatch(s):
        keys.add(f"n:{int(s, 16)}")
    if len(s) <= 40 and _DECIMAL.fullmatch(s):
        keys.add(f"n:{int(s, 10)}")
    return frozenset(keys)


EXACT = "s:"


def exact_key(keys: frozenset[str]) -> str | None:
    """The key of `message_id_keys` that only the same id string has; None if there is none."""
    return next((k for k in keys if k.startswith(EXACT)), None)


_HEX = re.compile(r"[0-9a-f]+")
_DECIMAL = re.compile(r"[0-9]+")


def _as_text(short_message: bytes | str | None) -> str:
    """The receipt text, whatever encoding the carrier chose.

    Receipts are ASCII, sent as GSM-7/Latin-1 or now and then as UCS-2. Dropping NULs turns
    UCS-2 ASCII back into ASCII and removes C-string terminators; bytes that are not UTF-8
    only matter inside `text:` and come out as U+FFFD.
    """
    if isinstance(short_message, str):
        text = short_message
    elif isinstance(short_message, bytes | bytearray | memoryview):
        text = bytes(short_message).decode("utf-8", errors="replace")
    else:
        return ""
    return text.replace("\x00", "")


def _text_fields(text: str) -> dict[str, str]:
    """Key → raw value (trimmed) from the text form; the first of a repeated key counts.

    `text:` ends the parse: it is always last and quotes the message, which may contain
    anything, "id:" and "stat:" included.
    """
    fields: dict[str, str] = {}
    matches = list(_KEY.finditer(text))
    for index, match in enumerate(matches):
        key = _normalise_key(match.group(1))
        if key == "text":
            fields["text"] = text[match.end() :].strip()
            break
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        fields.setdefault(key, text[match.end() : end].strip(_SEPARATORS))
    return fields


def _normalise_key(key: str) -> str:
    key = key.lower()
    if key.startswith("submit"):
        return "submit date"
    if key.startswith("done"):
        return "done date"
    return key


def _first_token(value: str | None) -> str:
    """The value up to its first separator: ids, stats and errors hold no spaces."""
    if not value:
        return ""
    return re.split(r"[\s,;]", value, maxsplit=1)[0]


def _count(value: str | None) -> int | None:
    token = _first_token(value)
    if token.isascii() and token.isdigit() and len(token) <= _MAX_DIGITS:
        return int(token)
    return None


def _tlv_id(value: str | bytes | None) -> str:
    """receipted_message_id as text: a C-string, so a trailing NUL may still be there."""
    if isinstance(value, bytes | bytearray | memoryview):
        value = bytes(value).decode("latin-1")
    if not isinstance(value, str):
        return ""
    return value.replace("\x00", "").strip()


def _network_error(value: bytes | None) -> str:
    """network_error_code (network type, 2-octet error) as e.g. "GSM:0x0b"; "" if unusable."""
    if not isinstance(value, bytes | bytearray | memoryview):
        return ""
    raw = bytes(value)
    if len(raw) != 3:
        return ""
    network = _NETWORK_TYPES.get(raw[0], str(raw[0]))
    return f"{network}:0x{int.from_bytes(raw[1:], 'big'):02x}"
