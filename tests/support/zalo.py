"""The Zalo simulator on free 127.0.0.1 ports, and the gateway's `zalo:` settings for it.

`async with zalo_rig(tmp_path) as rig:` starts `ZaloSimulator` and its control port;
`rig.settings()` is a `ZaloConfig` whose URLs, ids and secrets are the simulator's, with
the simulator's first refresh token in a file under `tmp_path`. `rig.control(...)` calls
the control API over real HTTP.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import aiohttp

from gateway.domain.channel import Channel
from gateway.settings.config import Config
from gateway.settings.mail import MailConfig
from gateway.settings.zalo import WebhookConfig, ZaloConfig, ZnsTemplate
from gateway.zalo.sim import OA_MESSAGE_PATH, OAUTH_PATH, ZNS_PATH, ZaloSimulator
from gateway.zalo.simctl import ZaloSimControl
from gateway.zalo.simrecords import ZaloSimConfig

# Phone numbers the tests give rules to (international form, as the store keeps them).
DELIVERED = "84905000001"
NO_ZALO = "84905000002"
NEVER = "84905000003"
QUOTA = "84905000004"
DELAYED = "84905000005"

RESULT_TEMPLATE = ZnsTemplate(
    template_id="2001",
    params=MappingProxyType({"ma_ho_so": "{receipt_no}", "co_quan": "{agency_name}"}),
)


@dataclass
class ZaloRig:
    sim: ZaloSimulator
    control_port: int
    token_file: Path

    def settings(self, **overrides: Any) -> ZaloConfig:
        """The gateway's `zalo:` section for this simulator; `overrides` replace keys."""
        base = self.sim.base_url
        config = self.sim.config
        settings = ZaloConfig(
            app_id=config.app_id,
            oa_id=config.oa_id,
            refresh_token_file=str(self.token_file),
            secret_key=config.secret_key,
            oa_secret_key=config.oa_secret_key,
            oauth_url=base + OAUTH_PATH,
            zns_url=base + ZNS_PATH,
            oa_message_url=base + OA_MESSAGE_PATH,
            templates=MappingProxyType({"result": RESULT_TEMPLATE}),
            timeout=2.0,
            webhook=WebhookConfig(port=0),
        )
        return dataclasses.replace(settings, **overrides)

    async def control(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One request to the control API: its status and JSON answer."""
        url = f"http://127.0.0.1:{self.control_port}{path}"
        data = None if body is None else json.dumps(body).encode()
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, url, data=data, timeout=aiohttp.ClientTimeout(5)) as reply,
        ):
            return reply.status, json.loads(await reply.read())


@asynccontextmanager
async def zalo_rig(
    tmp_path: Path,
    *,
    webhook_url: str | None = None,
    templates: Mapping[str, bool] | None = None,
    delivery_delay: float = 0.05,
) -> AsyncIterator[ZaloRig]:
    """The simulator (API and control port on free ports) and a token file for it."""
    config = ZaloSimConfig(
        port=0,
        webhook_url=webhook_url,
        templates=MappingProxyType(dict(templates or {})),
        delivery_delay=delivery_delay,
        webhook_retry=0.05,
    )
    token_file = tmp_path / "zalo-refresh-token"
    token_file.write_text(config.refresh_token + "\n", encoding="utf-8")
    token_file.chmod(0o600)
    async with ZaloSimulator(config) as sim, ZaloSimControl(sim) as control:
        yield ZaloRig(sim=sim, control_port=control.port, token_file=token_file)


def daemon_on_zalo(
    base: Config,
    rig: ZaloRig,
    hook_port: int,
    *,
    fallback_after: float = 1.5,
    smtp_port: int | None = None,
) -> Config:
    """`base` with SCT on `[zalo, sms]` through `rig`'s simulator, Zalo's webhooks on
    `hook_port`; with `smtp_port`, SCT also e-mails through a plain SMTP server there."""
    agencies = dict(base.agencies)
    sct = dataclasses.replace(agencies["SCT"], channels=(Channel.ZALO, Channel.SMS))
    email = None
    if smtp_port is not None:
        email = MailConfig(host="127.0.0.1", sender="motcua@sct.example.vn", port=smtp_port,
                           security="none", timeout=5.0)  # fmt: skip
        sct = dataclasses.replace(sct, email=True, email_from=email.sender)
    agencies["SCT"] = sct
    return dataclasses.replace(
        base,
        agencies=MappingProxyType(agencies),
        zalo=rig.settings(
            webhook=WebhookConfig(port=hook_port), fallback_after=fallback_after, timeout=1.0
        ),
        email=email,
    )
