"""The effective configuration as `check-config` prints it: shaped like the file, secrets
as `***`, so the output can be read back as a configuration."""

from __future__ import annotations

import dataclasses
from datetime import time
from typing import Any

from gateway.settings import smpp as smpp_section
from gateway.settings.config import Config
from gateway.settings.links import LinkConfig
from gateway.settings.mail import SHOWN as MAIL_SHOWN
from gateway.settings.mail import MailConfig
from gateway.settings.smpp import SmppConfig
from gateway.settings.zalo import ZaloConfig


def _plain(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def _hhmm(t: time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}"


def _secret_shown(value: str | None) -> str | None:
    return "***" if value else None


def _smpp(smpp: SmppConfig) -> dict[str, Any]:
    return {
        **{name: getattr(smpp, name) for name in smpp_section.SHOWN},
        "password": _secret_shown(smpp.password),
        "shortcodes": list(smpp.shortcodes),
        "status_classes": {f"0x{code:08X}": cls for code, cls in smpp.status_classes.items()},
    }


def _link(link: LinkConfig) -> dict[str, Any]:
    routes = [
        {k: v for k, v in dataclasses.asdict(route).items() if v not in (None, False)}
        for route in link.routes
    ]
    return {
        "id": link.id,
        **_smpp(link),
        "binds": link.binds,
        "account_tps": link.account_tps,
        "routes": routes,
        "reroute": [f"0x{code:08X}" for code in sorted(link.reroute)],
        "failover_after": link.failover_after,
    }


def _email(mail: MailConfig | None) -> dict[str, Any] | None:
    """The `email:` section in the file's key order (`from` for `sender`), or None: off."""
    if mail is None:
        return None
    values = {
        **{name: getattr(mail, name) for name in MAIL_SHOWN if name not in ("from", "password")},
        "from": mail.sender,
        "password": _secret_shown(mail.password),
    }
    return {name: values[name] for name in MAIL_SHOWN}

def _zalo(zalo: ZaloConfig | None) -> dict[str, Any] | None:
    if zalo is None:
        return None
    return {
        **_plain(zalo),
        "secret_key": _secret_shown(zalo.secret_key),
        "oa_secret_key": _secret_shown(zalo.oa_secret_key),
        "templates": {
            kind: {"template_id": t.template_id, "params": dict(t.params)}
            for kind, t in zalo.templates.items()
        },
        "webhook": _plain(zalo.webhook),
    }


def redacted(config: Config) -> dict[str, Any]:
    """The effective configuration as plain data for `check-config`, passwords as `***`.

    Shaped like the YAML file (times as "HH:MM", dates as "YYYY-MM-DD", status codes as
    "0x…"), so the output can be read back; an unset password is None. `source_path` is
    left out: it is not a key of the file.
    """
    schedule = config.schedule
    quiet = schedule.quiet_hours
    smsc: dict[str, Any] = (
        {"smsc": [_link(link) for link in config.smsc]}
        if config.smsc
        else {"smpp": _smpp(config.smpp)}
    )
    return {
        "timezone": config.timezone,
        **smsc,
        "mqtt": {
            **_plain(config.mqtt),
            "password": _secret_shown(config.mqtt.password),
            "tls": None if config.mqtt.tls is None else _plain(config.mqtt.tls),
        },
        "store": {**_plain(config.store), "password": _secret_shown(config.store.password)},
        "schedule": {
            "apology_at": _hhmm(schedule.apology_at),
            "quiet_hours": None if quiet is None else f"{_hhmm(quiet[0])}-{_hhmm(quiet[1])}",
            "holidays": [d.isoformat() for d in sorted(schedule.holidays)],
            "working_days": [d.isoformat() for d in sorted(schedule.working_days)],
            "weekend": sorted(schedule.weekend),
        },
        "retry": _plain(config.retry),
        "agencies": {
            code: {
                "name": agency.name,
                "skip_same_day": agency.skip_same_day,
                "diacritics": agency.diacritics,
                "notices": sorted(agency.notices),
                "templates": dict(agency.templates),
                "channels": [c.value for c in agency.channels],
                "email": agency.email,
                "email_from": agency.email_from,
            }
            for code, agency in config.agencies.items()
        },
        "email": _email(config.email),
        "keywords": dict(config.keywords),
        "mo": _plain(config.mo),
        "admin": _plain(config.admin),
        "report": _plain(config.report),
        "console": {
            **_plain(config.console),
            "users": {
                name: {"role": u.role, "agency": u.agency, "password_hash": "***"}
                for name, u in config.console.users.items()
            },
        },
        "zalo": _zalo(config.zalo),
    }
