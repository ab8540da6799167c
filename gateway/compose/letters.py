"""The e-mail copy of a notice ("letter"): its subject, its text always with diacritics,
the receipt's QR code on the receipt notice, its From per agency; or its refusal, for a
bad address, which refuses the copy alone, never the notice.

A letter is made only for an agency with `email: true` and a payload that carries
`email`; whatever the notice's channel (SMS or Zalo) and whatever became of its number.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.domain.letter import NewLetter
from gateway.domain.notice import NoticeKind
from gateway.domain.states import MessageState
from gateway.mail.address import NotText, address_ok
from gateway.settings.agencies import AgencyConfig

# The subject of each notice kind's letter; `{receipt_no}` is the dossier's.
SUBJECTS: Mapping[str, str] = {
    NoticeKind.RECEIPT: "Tiếp nhận hồ sơ {receipt_no}",
    NoticeKind.RESULT: "Hồ sơ {receipt_no} đã có kết quả",
    NoticeKind.SUPPLEMENT: "Hồ sơ {receipt_no} cần bổ sung",
    NoticeKind.APOLOGY: "Hồ sơ {receipt_no} chưa có kết quả đúng hẹn",
    NoticeKind.PAYMENT: "Hồ sơ {receipt_no} cần thực hiện nghĩa vụ tài chính",
}
# An SMS job's letter, and a notice's without a receipt number.
JOB_SUBJECT = "Thông báo từ {agency_name}"


def subject(kind: str, agency: AgencyConfig, receipt_no: str | None) -> str:
    wording = SUBJECTS.get(kind) if receipt_no else None
    if wording is None:
        return JOB_SUBJECT.format(agency_name=agency.name)
    return f"{agency.name}: {wording.format(receipt_no=receipt_no)}"


def letter(
    agency: AgencyConfig,
    *,
    address: str | NotText | None,
    base: Mapping[str, str | None],
    body: str,
    not_before: float,
    expires_at: float,
    now: float,
) -> NewLetter | None:
    """The letter copying the notice `base` (agency, ref, kind, event_id, receipt_no,
    procedure) with `body`; None when none is wanted (the agency sends no e-mail, or the
    payload named no address)."""
    if not agency.email or address is None or agency.email_from is None:
        return None
    kind = str(base["kind"])
    receipt_no = base.get("receipt_no")
    common = {
        "agency": agency.code,
        "ref": str(base["ref"]),
        "kind": kind,
        "sender": agency.email_from,
        "event_id": base.get("event_id"),
        "receipt_no": receipt_no,
        "procedure": base.get("procedure"),
    }
    refused = address_ok(address)
    if refused is not None:
        return NewLetter(
            **common,
            state=MessageState.REJECTED,
            reason=f"email: {refused}",
            not_before=now,
            expires_at=now,
        )
    assert isinstance(address, str)  # address_ok takes text only
    return NewLetter(
        **common,
        state=MessageState.QUEUED,
        address=address.strip(),
        subject=subject(kind, agency, receipt_no),
        body=body,
        qr=receipt_no if kind == NoticeKind.RECEIPT and receipt_no else None,
        not_before=not_before,
        expires_at=expires_at,
    )
