"""The demo's channels beside SMS: an agency on `[zalo, sms]` against the bundled Zalo
simulator, three of its citizens (one Zalo delivers to, one without Zalo: SMS at once,
one whose Zalo never confirms: SMS when the fallback timer ends), and a lookup typed in
the agency's Zalo chat. `motcua-sms demo` (gateway/demo.py) runs it beside the SMS
samples.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

from gateway.domain.channel import Channel
from gateway.phone.numbers import mask_phone
from gateway.settings.config import AgencyConfig, Config
from gateway.settings.zalo import WebhookConfig, ZaloConfig, ZnsTemplate
from gateway.zalo.sim import OA_MESSAGE_PATH, OAUTH_PATH, ZNS_PATH, ZaloSimulator
from gateway.zalo.simrecords import ZaloSimConfig

# Quảng Bình's one-stop desks send step notices by Zalo (seed 004), SMS where Zalo cannot.
ZALO_AGENCY = AgencyConfig(
    code="SNV",
    name="Sở Ngoại vụ tỉnh Quảng Bình",
    channels=(Channel.ZALO, Channel.SMS),
)
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


def on_zalo(config: Config, sim: ZaloSimulator, work: Path, webhook_port: int) -> Config:
    """`config` with the Zalo agency and the `zalo:` section for `sim`."""
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
    return dataclasses.replace(config, agencies=agencies, zalo=zalo)


async def show_zalo(sim: ZaloSimulator, screen: Lines) -> None:
    """ZNS notices and chat replies as the simulator takes them."""
    notices = replies = 0
    while True:
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
        ref = f"{payload['event_id']}:result"
        finals = [s for s in statuses if s["id"] == ref and s["state"] == state]
        got = finals[-1].get("channel") if finals else None
        ok = got == channel
        lines.append((f"  {ref:<26} {state} by {got}: "
                      f"{'ok' if ok else f'EXPECTED by {channel}'}", ok))  # fmt: skip
    answered = chat_answered(sim)
    told = "answered in the chat" if answered else "EXPECTED an answer"
    lines.append((f"  Zalo chat lookup {CHAT_LOOKUP}: {told}", answered))
    return lines
