"""Agencies that send e-mail copies: a configuration read from YAML as the daemon reads it,
with an `email:` section, SCT on e-mail (its own From, the receipt notice on) and STP off,
and no quiet hours (the tests pass at any hour)."""

from __future__ import annotations

from pathlib import Path

from gateway.settings.config import Config, parse_config

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
