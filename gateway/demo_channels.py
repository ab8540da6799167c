"""The demo's channels beside SMS: an agency on `[zalo, sms]` against the bundled Zalo
simulator, three of its citizens (one Zalo delivers to, one without Zalo: SMS at once,
one whose Zalo never confirms: SMS when the fallback timer ends), a lookup typed in the
agency's Zalo chat, and the receipt notice's e-mail copy (with the receipt's QR code)
caught by a local SMTP server. `motcua-sms demo` (gateway/demo.py) runs it beside the SMS
samples.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket
from collections.abc import AsyncIterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

from aiosmtpd.controller import Controller

from gateway.domain.channel import Channel
from gateway.mail.address import mask_address
from gateway.phone.numbers import mask_phone
from gateway.settings.config import AgencyConfig, Config
from gateway.settings.mail import MailConfig
from gateway.settings.zalo import WebhookConfig, ZaloConfig, ZnsTemplate
from gateway.zalo.sim import OA_MESSAGE_PATH, OAUTH_PATH, ZNS_PATH, ZaloSimulator
from gateway.zalo.simrecords import ZaloSimConfig

# Quảng Bình's one-stop desks send step notices by Zalo (seed 004), SMS where Zalo cannot.
ZALO_AGENCY = AgencyConfig(
    code="SNV",
    name="Sở Ngoại vụ tỉnh Quảng Bình",
    channels=(Channel.ZALO, Channel.SMS),
    notices=frozenset({"receipt", "result", "supplement", "apology"}),
    email=True,
    email_from="Sở Ngoại vụ tỉnh Quảng Bình <motcua@snv.quangbinh.gov.vn>",
)
CITIZEN_EMAIL = "nguyen.van.an@example.vn"
ON_ZALO = "84935000001"  # Zalo delivers to this citizen
NO_ZALO = "84935000002"  # no Zalo account: SMS at once
SILENT = "84935000003"  # Zalo accepts, never confirms: SMS when the timer ends
CHAT_USER = "8452000000000000001"  # a citizen in the OA chat (a Zalo user id)
FALLBACK_AFTER = 4.0  # seconds (600 by default): the demo shows the timer end
TEMPLATE = ZnsTemplate(
    template_id="250001",
    params=MappingProxyType(
        {"ma_ho_so": "{receipt_no}", "co_quan": "{agency_name}", "buoc": "{step}"}
    ),
)

# (payload, the final state and channel its notice must reach)
SAMPLES: list[tuple[dict[str, Any], str, str]] = [
    # Received: no Zalo template for the receipt notice, so SMS; and its e-mail copy.
    ({"event_id": "SNV-0", "receipt_no": "000.00.31.H22-261123-0004",
      "procedure": "Cấp thị thực cho người nước ngoài", "phone": "0935 000 001",
      "email": CITIZEN_EMAIL, "step": "Tiếp nhận", "status": "received",
      "due_date": "2026-11-27", "occurred_at": "2026-11-23T09:09:00+07:00"},
     "delivered", "sms"),
    ({"event_id": "SNV-1", "receipt_no": "000.00.31.H22-261123-0001",
      "procedure": "Cấp thị thực cho người nước ngoài", "phone": "0935 000 001",
      "step": "Trả kết quả", "status": "result_ready", "due_date": "2026-11-26",
      "occurred_at": "2026-11-23T09:10:00+07:00"}, "delivered", "zalo"),
    ({"event_id": "SNV-2", "receipt_no": "000.00.31.H22-261123-0002",
      "procedure": "Cấp thị thực cho người nước ngoài", "phone": "0935 000 002",
      "step": "Trả kết quả", "status": "result_ready", "due_date": "2026-11-26",
      "occurred_at": "2026-11-23T09:11:00+07:00"}, "delivered", "sms"),
    ({"event_id": "SNV-3", "receipt_no": "000.00.31.H22-261123-0003",
      "procedure": "Hợp pháp hóa lãnh sự", "phone": "0935 000 003",
      "step": "Trả kết quả", "status": "result_ready", "due_date": "2026-11-27",
      "occurred_at": "2026-11-23T09:12:00+07:00"}, "delivered", "sms"),
]  # fmt: skip
CHAT_LOOKUP = "000.00.31.H22-261123-0001"  # pasted from the receipt's QR code


class Lines(Protocol):
    def line(self, arrow: str, what: str, detail: str) -> None: ...


@contextlib.asynccontextmanager
async def zalo_simulator(work: Path, webhook_port: int) -> AsyncIterator[ZaloSimulator]:
    """The Zalo simulator posting its webhooks to the daemon's endpoint, its template
    approved, its first refresh token in the demo's directory."""
    config = ZaloSimConfig(
        port=0,
        webhook_url=f"http://127.0.0.1:{webhook_port}/zalo/webhook",
        templates=MappingProxyType({TEMPLATE.template_id: True}),
        delivery_delay=0.5,
        webhook_retry=0.2,
    )
    token = work / "zalo-refresh-token"
    token.write_text(config.refresh_token + "\n", encoding="utf-8")
    token.chmod(0o600)
    async with ZaloSimulator(config) as sim:
        sim.set_rule(NO_ZALO, "no_zalo")
        sim.set_rule(SILENT, "never_delivered")
        yield sim


class _Catch:
    """The local SMTP server's handler: keeps what it is given."""

    def __init__(self) -> None:
        self.letters: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = BytesParser(policy=policy.default).parsebytes(envelope.content)
        self.letters.append(parsed)  # type: ignore[arg-type]
        return "250 OK"


@contextlib.asynccontextmanager
async def smtp_catcher() -> AsyncIterator[tuple[_Catch, int]]:
    """An SMTP server on 127.0.0.1 that keeps every e-mail, and its port."""
    catch = _Catch()
    port = _free_port()
    controller = Controller(catch, hostname="127.0.0.1", port=port)
    await asyncio.to_thread(controller.start)
    try:
        yield catch, port
    finally:
        await asyncio.to_thread(controller.stop)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def on_zalo(
    config: Config, sim: ZaloSimulator, work: Path, webhook_port: int, smtp_port: int
) -> Config:
    """`config` with the Zalo agency, the `zalo:` section for `sim`, and the `email:`
    section for the local SMTP server (plain SMTP: it is on this machine)."""
    base, sim_config = sim.base_url, sim.config
    zalo = ZaloConfig(
        app_id=sim_config.app_id,
        oa_id=sim_config.oa_id,
        refresh_token_file=str(work / "zalo-refresh-token"),
        secret_key=sim_config.secret_key,
        oa_secret_key=sim_config.oa_secret_key,
        oauth_url=base + OAUTH_PATH,
        zns_url=base + ZNS_PATH,
        oa_message_url=base + OA_MESSAGE_PATH,
        templates=MappingProxyType({"result": TEMPLATE}),
        fallback_after=FALLBACK_AFTER,
        timeout=2.0,
        webhook=WebhookConfig(port=webhook_port),
    )
    agencies = MappingProxyType({**config.agencies, ZALO_AGENCY.code: ZALO_AGENCY})
    mail = MailConfig(
        host="127.0.0.1",
        sender="Một cửa <motcua@quangbinh.gov.vn>",
        port=smtp_port,
        security="none",
    )
    return dataclasses.replace(config, agencies=agencies, zalo=zalo, email=mail)


def show_letters(catch: _Catch, screen: Lines, shown: int) -> int:
    for letter in catch.letters[shown:]:
        images = [p for p in letter.walk() if p.get_content_type() == "image/png"]
        screen.line("→", "e-mail", f"{mask_address(str(letter['To']))} {letter['Subject']!r} "
                    f"(QR code: {'yes' if images else 'no'})")  # fmt: skip
    return len(catch.letters)


def letter_summary(catch: _Catch) -> tuple[str, bool]:
    """(line, ok) for the receipt notice's e-mail copy."""
    found = [x for x in catch.letters if "000.00.31.H22-261123-0004" in str(x["Subject"])]
    ok = len(found) == 1 and any(p.get_content_type() == "image/png" for p in found[0].walk())
    told = "caught, with the receipt's QR code" if ok else "EXPECTED one, with a QR code"
    return f"  e-mail copy of SNV-0:receipt: {told}", ok


async def show_zalo(sim: ZaloSimulator, catch: _Catch, screen: Lines) -> None:
    """ZNS notices, chat replies and e-mails as the simulator and the SMTP server take
    them."""
    notices = replies = letters = 0
    while True:
        letters = show_letters(catch, screen, letters)
        for sent in sim.sent[notices:]:
            screen.line("→", "ZNS", f"{mask_phone(sent.phone)} template {sent.template_id} "
                        f"{sent.template_data}")  # fmt: skip
        for reply in sim.chat[replies:]:
            screen.line("→", "Zalo chat", f"user …{reply['user_id'][-4:]}: {reply['text']}")
        notices, replies = len(sim.sent), len(sim.chat)
        await asyncio.sleep(0.05)


async def chat_lookup(sim: ZaloSimulator, screen: Lines) -> None:
    screen.line("←", "Zalo chat", f"user …{CHAT_USER[-4:]}: {CHAT_LOOKUP!r}")
    await sim.user_sends_text(CHAT_USER, CHAT_LOOKUP)


def chat_answered(sim: ZaloSimulator) -> bool:
    return any(CHAT_LOOKUP in reply["text"] for reply in sim.chat)


def channel_summary(statuses: list[dict[str, Any]], sim: ZaloSimulator) -> list[tuple[str, bool]]:
    """(line, ok) for each Zalo sample and the chat lookup."""
    lines = []
    for payload, state, channel in SAMPLES:
        ours = [s for s in statuses if s["id"].startswith(f"{payload['event_id']}:")]
        ref = ours[0]["id"] if ours else payload["event_id"]
        finals = [s for s in ours if s["state"] == state and s.get("channel") != "email"]
        got = finals[-1].get("channel") if finals else None
        ok = got == channel
        lines.append((f"  {ref:<26} {state} by {got}: "
                      f"{'ok' if ok else f'EXPECTED by {channel}'}", ok))  # fmt: skip
    answered = chat_answered(sim)
    told = "answered in the chat" if answered else "EXPECTED an answer"
    lines.append((f"  Zalo chat lookup {CHAT_LOOKUP}: {told}", answered))
    return lines
