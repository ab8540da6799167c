"""The `email:` section: the SMTP server notices are e-mailed through. Times in seconds.

Absent, e-mail is off (`Config.email` is None) and an agency may not turn it on. Present:

```yaml
email:
  host: smtp.hcm.gov.vn
  port: 587                 # default: 587 for starttls, 465 for tls, 25 for none
  security: starttls        # or: tls (implicit TLS), none (only to a relay on this machine)
  ca_file: /etc/motcua-sms/smtp-ca.pem   # optional; else the system's CAs
  username: motcua-sms      # password as for SMPP: MOTCUA_SMS_EMAIL_PASSWORD,
  password_file: smtp.pass  #   password_file, or password
  from: "Trung tâm Phục vụ hành chính công <motcua@hcm.gov.vn>"
  timeout: 30               # each SMTP step (connect, TLS, each command) at most this long
```

`security: none` sends the login and citizens' data in clear text, so it is taken only for
a server on this machine (a local relay that does TLS itself); anywhere else it is refused
with that reason. The certificate is always verified: a server whose certificate no CA
given trusts is not sent to (the sender retries, and says why).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, get_args

from pydantic import ConfigDict, ValidationInfo, model_validator

from gateway.mail.address import sender_ok
from gateway.settings.explain import file_keys
from gateway.settings.secrets import beside, password_text, source_of, with_password
from gateway.settings.values import (
    below,
    entries,
    integer,
    number,
    one_of,
    optional,
    refuse,
    rule,
    text,
    unknown_key,
)

EMAIL_PASSWORD_ENV = "MOTCUA_SMS_EMAIL_PASSWORD"

Security = Literal["starttls", "tls", "none"]
DEFAULT_PORTS: dict[str, int] = {"starttls": 587, "tls": 465, "none": 25}
# The hosts `security: none` is taken for: this machine only.
LOCAL_HOSTS = frozenset({"localhost", "localhost.localdomain"})


def from_address(value: Any) -> str:
    """A From header's value: `Name <addr>` or a bare address, as `sender_ok` takes it."""
    written: str = text()(value)
    reason = sender_ok(written)
    if reason is not None:
        refuse(reason if reason.startswith("must be") else f"not a usable address: {reason}")
    return written.strip()


def is_local(host: str) -> bool:
    """Whether `host` names this machine (a loopback address or localhost)."""
    if host.lower() in LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class MailConfig:
    """The SMTP server, how to reach it safely, our login on it, and the default From.

    `sender` is the file's `from` (a Python keyword); `port` is always set after loading
    (the security's default when not written).
    """

    __pydantic_config__ = ConfigDict(extra="forbid")
    NOT_IN_FILE: ClassVar[tuple[str, ...]] = ("sender",)
    ALSO_IN_FILE: ClassVar[tuple[str, ...]] = ("from", "password_file")

    host: str
    sender: str
    port: int = 587
    security: Security = "starttls"
    ca_file: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0

    _host = rule("host", check=text())
    _sender = rule("sender", check=from_address)
    _port = rule("port", check=integer(1, 65535))
    _security = rule("security", check=one_of(get_args(Security)))
    _username = rule("username", check=optional(text()))
    _password = rule("password", check=optional(password_text))
    _timeout = rule("timeout", check=number(exclusive=True))
    _ca_file = rule("ca_file", check=optional(text()))

    @model_validator(mode="before")
    @classmethod
    def _file(cls, data: Any, info: ValidationInfo) -> Any:
        section = with_password(entries(data), info, EMAIL_PASSWORD_ENV)
        for key in section:  # a typo first: it is the likelier cause of a missing key
            if key not in _FILE_KEYS:
                unknown_key(key)
        if "host" not in section:
            refuse("missing: the SMTP server e-mails are sent through", "host")
        if "from" not in section:
            refuse('missing: the From address of the e-mails, "Name <address>"', "from")
        section["sender"] = below(from_address, section.pop("from"), "from")
        security = section.get("security", "starttls")
        below(one_of(get_args(Security)), security, "security")
        section.setdefault("port", DEFAULT_PORTS[security])
        if security == "none" and not is_local(below(text(), section["host"], "host")):
            refuse(
                "`none` sends the login and citizens' data across the network in clear "
                "text; it is only for a relay on this machine (127.0.0.1, ::1 or "
                "localhost): use starttls or tls",
                "security",
            )
        if section.get("ca_file") is not None:
            section["ca_file"] = _readable(section["ca_file"], info)
        has_user = section.get("username") is not None
        if "password" in section and not has_user:
            refuse(
                "missing: a password is given, for a login with no username",
                "username",
                near=("password",),
            )
        if has_user and "password" not in section:
            refuse(
                f"missing: the login needs a password ({EMAIL_PASSWORD_ENV}, password_file "
                "or password)",
                "password",
                near=("username",),
            )
        return section


_FILE_KEYS = frozenset(file_keys(MailConfig)) - {"password_file"}


def _readable(value: Any, info: ValidationInfo) -> str:
    """The CA file as a path readable now (not at the first notice), relative to the
    configuration file's directory."""
    path = beside(source_of(info), below(text(), value, "ca_file"))
    try:
        path.read_bytes()
    except OSError as exc:
        refuse(f"cannot read {path}: {exc.strerror or exc}", "ca_file")
    return str(path)


# The order `check-config` shows the keys in (the file's `from` for `sender`).
SHOWN = ("host", "port", "security", "ca_file", "username", "password", "from", "timeout")
