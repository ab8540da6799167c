"""Agencies that send e-mail copies: a configuration read from YAML as the daemon reads it,
with an `email:` section, SCT on e-mail (its own From, the receipt notice on) and STP off,
and no quiet hours (the tests pass at any hour)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gateway.intake.consumer import Received
from gateway.settings.config import Config, parse_config

TO = "nguyenvana@gmail.com"
RECEIPT_NO = "0101701234"
PROCEDURE = "Cấp Giấy chứng nhận đủ điều kiện kinh doanh hóa chất"
SCT_FROM = "Sở Công Thương <motcua@sct.hcm.gov.vn>"
# SCT strips diacritics from its SMS (its e-mail keeps them); STP sends no e-mail.
AGENCIES = f"""\
agencies:
  SCT:
    name: Sở Công Thương
    diacritics: strip
    notices: [receipt, result, supplement, apology]
    email: true
    email_from: "{SCT_FROM}"
  STP:
    name: Sở Tư pháp
    notices: [receipt, result]
    email: false
"""


def mailing_config(
    *,
    port: int = 587,
    security: str = "starttls",
    ca: Path | None = None,
    login: tuple[str, str] | None = None,
    timeout: float = 5,
    retry: str = "",
) -> Config:
    """The configuration: the SMTP server at 127.0.0.1:`port`, `retry` lines under
    `retry:` (e.g. `"  base_delay: 0.05\\n"`)."""
    lines = [
        "email:",
        "  host: 127.0.0.1",
        f"  port: {port}",
        f"  security: {security}",
        "  from: 'Trung tâm Phục vụ hành chính công <motcua@hcm.gov.vn>'",
        f"  timeout: {timeout}",
    ]
    if ca is not None:
        lines.append(f"  ca_file: {ca}")
    if login is not None:
        lines += [f"  username: {login[0]}", f"  password: {login[1]}"]
    text = "\n".join(lines) + "\nschedule:\n  quiet_hours: off\n" + AGENCIES
    if retry:
        text += "retry:\n" + retry
    return parse_config(text, env={})


def event(
    event_id: str, *, status: str = "result_ready", agency: str = "SCT", **extra: Any
) -> Received:
    """Dossier event `event_id` of dossier RECEIPT_NO with a good phone, and `extra`."""
    body: dict[str, Any] = {
        "event_id": event_id, "receipt_no": RECEIPT_NO, "agency": agency,
        "procedure": PROCEDURE, "step": "Trả kết quả", "status": status,
        "due_date": "2026-11-25", "phone": "0905 123 456",
        "occurred_at": "2026-11-23T10:00:00+07:00", **extra,
    }  # fmt: skip
    return Received(f"motcua/{agency}/dossier", json.dumps(body, ensure_ascii=False).encode())


def job(job_id: str, **extra: Any) -> Received:
    """SCT's SMS job `job_id` to a good number, with `extra` (text or template, email)."""
    body = {"id": job_id, "to": "0905123456", **extra}
    return Received("motcua/SCT/sms", json.dumps(body, ensure_ascii=False).encode())
