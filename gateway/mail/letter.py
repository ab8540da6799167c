"""The e-mail a notice becomes: its text exactly as composed, and the receipt's QR code.

An e-mail always keeps the diacritics (SPEC: channels beside SMS): the body is UTF-8
text/plain, never folded to GSM-7 as an SMS may be. When the notice carries a receipt
number (`qr`), the letter is

    multipart/mixed
      multipart/alternative
        text/plain                the body
        multipart/related
          text/html               the body, and <img src="cid:…">
          image/png               the QR code, inline
      image/png                   the same QR code, attached as <receipt>.png

so a client that shows HTML shows the code under the text, and one that strips inline
images (or shows only text) still has the attachment. The code encodes the receipt number
alone, which is what a citizen's QR scanner pastes into the agency's Zalo chat or an MCKH
SMS. Headers are written by `email.policy.SMTP` (CRLF, RFC 2047 for a Vietnamese subject
or sender name).

The Message-ID is made from our message id and the From's domain, so a letter sent again
after a crash (the SMTP server accepted it, the outcome was not recorded) carries the same
Message-ID as the first, and a receiving system that dedupes on it shows one.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime

import segno

from gateway.mail.address import address_ok, domain_of, sender_address, sender_ok

__all__ = ["address_ok", "build", "message_id_header", "qr_png"]

# Pixels per QR module, and the quiet zone in modules (the standard's 4): about 200 px for
# a receipt number, legible on a phone and in print.
QR_SCALE = 6
QR_BORDER = 4
# Medium error correction: a printed or photographed code survives a smudge.
QR_ERROR = "m"

# 7-bit clean on the wire: a relay without 8BITMIME passes the letter unchanged, and the
# Vietnamese text stays readable in the raw message.
_CTE = "quoted-printable"
_ID_SAFE = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")
_FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")


def qr_png(text: str) -> bytes:
    """The QR code of `text` as a PNG (a full QR symbol, never a Micro QR, which most
    phone scanners cannot read)."""
    out = io.BytesIO()
    segno.make_qr(text, error=QR_ERROR).save(out, kind="png", scale=QR_SCALE, border=QR_BORDER)
    return out.getvalue()


def _token(message_id: str) -> str:
    """A msg-id's left side from our id: the id itself when it is dot-atom text, else a
    digest of it. The prefixes keep the two forms from ever colliding."""
    if _ID_SAFE.fullmatch(message_id):
        return f"m.{message_id}"
    return "h." + hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:40]


def message_id_header(message_id: str, sender: str) -> str:
    """`<m.{message_id}@{domain of sender}>`: the same for the same message, always."""
    return f"<{_token(message_id)}@{domain_of(sender_address(sender))}>"


def _qr_cid(message_id: str, sender: str) -> str:
    return f"<qr.{_token(message_id)}@{domain_of(sender_address(sender))}>"


def _html(body: str, cid: str, qr: str) -> str:
    paragraphs = "<br>\n".join(html.escape(line) for line in body.splitlines())
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n'
        f"<p>{paragraphs}</p>\n"
        f'<p><img src="cid:{cid[1:-1]}" alt="QR {html.escape(qr)}"></p>\n'
        "</body></html>\n"
    )


def build(
    *,
    sender: str,
    to: str,
    subject: str,
    body: str,
    qr: str | None,
    message_id: str,
    date: datetime | None = None,
) -> EmailMessage:
    """The letter of one notice to one recipient.

    `sender` is the From (`Name <addr>` or a bare address: the agency's `email_from`),
    `to` the citizen's bare address, `qr` the text to encode (the receipt number) or None
    for a letter without a code, `message_id` our message's id (the Message-ID is built
    from it), `date` the Date header (default: now).

    A line break in `subject` (a procedure name pasted with one) becomes a space: a header
    cannot carry it.

    Raises:
        ValueError: `to` or `sender` is not an address `address_ok` / `sender_ok` takes
            (intake refuses those first; this keeps a bad one from reaching the server),
            or `qr` is empty.
    """
    reason = address_ok(to)
    if reason is not None:
        raise ValueError(f"to: {reason}")
    reason = sender_ok(sender)
    if reason is not None:
        raise ValueError(f"sender: {reason}")
    if qr is not None and not qr.strip():
        raise ValueError("qr: is empty")
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = sender.strip()
    msg["To"] = to
    msg["Subject"] = _LINE_BREAKS.sub(" ", subject).strip()
    msg["Date"] = format_datetime(date or datetime.now(UTC))
    msg["Message-ID"] = message_id_header(message_id, sender)
    msg.set_content(body, subtype="plain", charset="utf-8", cte=_CTE)
    if qr is None:
        return msg
    png = qr_png(qr)
    cid = _qr_cid(message_id, sender)
    msg.add_alternative(_html(body, cid, qr), subtype="html", charset="utf-8", cte=_CTE)
    html_part = msg.get_payload()[1]
    html_part.add_related(png, maintype="image", subtype="png", cid=cid, disposition="inline")
    filename = _FILENAME_UNSAFE.sub("_", qr) + ".png"
    msg.add_attachment(png, maintype="image", subtype="png", filename=filename)
    return msg
