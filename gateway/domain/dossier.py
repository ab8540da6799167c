"""A dossier as the gateway knows it: its statuses, the national codes for them, which
statuses finish it, and the row the mirror holds.

"Finished" is defined here once (`FINISHED_STATUSES`): the mirror keeps the day a
dossier first reached one, the apology run leaves finished dossiers alone, and the MCKH
reply judges a finished dossier's timeliness by that day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from gateway.domain.notice import NoticeKind


class DossierStatus(StrEnum):
    """A dossier's status, as payloads name it."""

    RECEIVED = "received"
    PROCESSING = "processing"
    NEEDS_SUPPLEMENT = "needs_supplement"
    NEEDS_PAYMENT = "needs_payment"
    RESULT_READY = "result_ready"
    RETURNED = "returned"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


STATUSES = frozenset(s.value for s in DossierStatus)

# Entering one of these statuses is what sends a notice; the apology and the MCKH reply
# are not tied to a transition.
STATUS_TRIGGERS: Mapping[str, NoticeKind] = MappingProxyType(
    {
        DossierStatus.RESULT_READY: NoticeKind.RESULT,
        DossierStatus.NEEDS_SUPPLEMENT: NoticeKind.SUPPLEMENT,
        DossierStatus.RECEIVED: NoticeKind.RECEIPT,
        DossierStatus.NEEDS_PAYMENT: NoticeKind.PAYMENT,
    }
)

# Past these there is nothing left to apologise for: the result exists or never will.
FINISHED_STATUSES = frozenset(
    {
        DossierStatus.RESULT_READY,
        DossierStatus.RETURNED,
        DossierStatus.REJECTED,
        DossierStatus.WITHDRAWN,
    }
)

# The National Public Service Portal's codes, which some one-stop software sends as is.
NATIONAL_STATUS_CODES: Mapping[int, str] = MappingProxyType(
    {
        1: DossierStatus.RECEIVED,  # Mới đăng ký
        2: DossierStatus.RECEIVED,  # Được tiếp nhận
        3: DossierStatus.REJECTED,  # Không được tiếp nhận
        4: DossierStatus.PROCESSING,  # Đang xử lý
        5: DossierStatus.NEEDS_SUPPLEMENT,  # Yêu cầu bổ sung giấy tờ
        6: DossierStatus.NEEDS_PAYMENT,  # Yêu cầu thực hiện nghĩa vụ tài chính
        7: DossierStatus.WITHDRAWN,  # Công dân yêu cầu rút hồ sơ
        8: DossierStatus.REJECTED,  # Dừng xử lý
        9: DossierStatus.RESULT_READY,  # Đã xử lý xong
        10: DossierStatus.RETURNED,  # Đã trả kết quả
    }
)

_ALLOWED_STATUSES = (
    f"one of {', '.join(sorted(STATUSES))}, or a national status code "
    f"{min(NATIONAL_STATUS_CODES)}-{max(NATIONAL_STATUS_CODES)}"
)


def parse_status(value: object) -> str:
    """The status name for a name or a national code (int or numeric string).

    The reason given names every allowed value, because it goes back to the one-stop
    software's developers in a `rejected` status and must let them fix their side.
    `True` is refused although Python counts it as 1: it is a JSON boolean, not a code.
    """
    code: int | None = None
    if isinstance(value, str):
        if value in STATUSES:
            return value
        if value.isascii() and value.isdigit() and len(value) <= 2:
            code = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        code = value
    if code is not None and code in NATIONAL_STATUS_CODES:
        return NATIONAL_STATUS_CODES[code].value
    raise ValueError(f"status must be {_ALLOWED_STATUSES}; got {value!r}")


# A dossier's identity in the mirror: (agency code, receipt key).
DossierKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class DossierRow:
    """One dossier as the mirror holds it; `receipt_key` is the receipt number folded for
    matching (`mirror.receipt_key`), unique within the agency."""

    receipt_key: str
    receipt_no: str
    agency: str
    procedure: str
    procedure_code: str | None
    phone: str | None
    step: str
    status: str
    due_date: str | None
    same_day: bool
    occurred_at: str
    finished_on: str | None  # the day it first reached a finished status
    # The notice kind its current status called for that was refused for want of a usable
    # phone (none, landline, impossible), sent once an event of that status brings one.
    notice_owed: str | None = None

    @property
    def key(self) -> DossierKey:
        return (self.agency, self.receipt_key)
