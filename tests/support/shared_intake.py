"""Shared intake's rig: the gateway's own intake (`serve_intake` on an `MqttLink`) as
several daemons run it with `mqtt.shared_group`, each on a store of its own, and the
helpers the shared-intake and takeover tests use (tests/intake/)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt

from gateway.intake.serving import intake_filters
from gateway.intake.serving import serve_intake as serve
from gateway.mqtt.adopt import QUIET
from gateway.mqtt.link import MqttLink
from gateway.settings.config import Config
from gateway.settings.mqtt import MqttConfig
from gateway.store.store import Store
from tests.support.broker import Broker
from tests.support.intake import config, intake_on, job
from tests.support.shared_member import Member
from tests.support.store_reads import db_rows

__all__ = [
    "GROUP", "HANDOVER_BOUND", "HANDOVER_DELAY", "daemon", "held_by", "link_for",
    "publish_jobs", "refs", "shared_config", "unique",
]  # fmt: skip

GROUP = "intake"
HANDOVER_DELAY = 1  # seconds; production's default is 10
# How long after a daemon's death what it held may take to be committed by another: the
# will's delay, the taken-over session's QUIET, and room for the commits themselves.
HANDOVER_BOUND = HANDOVER_DELAY + QUIET + 5.0


def shared_config(broker: Broker, prefix: str) -> Config:
    cfg = config()
    mqtt = dataclasses.replace(
        MqttConfig(), host=broker.host, port=broker.port, topic_prefix=prefix,
        shared_group=GROUP, handover_delay=HANDOVER_DELAY, keepalive=5,
    )  # fmt: skip
    return dataclasses.replace(cfg, mqtt=mqtt)


def link_for(cfg: Config, client_id: str) -> MqttLink:
    """The link as the daemon opens it with `mqtt.shared_group`, under `client_id`."""
    section = dataclasses.replace(cfg.mqtt, client_id=client_id)
    settings = dataclasses.replace(section.link_settings(), reconnect_min=0.05, reconnect_max=0.3)
    return MqttLink(settings, intake_filters(section.topic_prefix, section.shared_group))


@contextlib.asynccontextmanager
async def daemon(cfg: Config, store_path: Path, client_id: str) -> AsyncIterator[Store]:
    """One daemon's intake, connected, on a store of its own."""
    async with Store.open(store_path) as store, link_for(cfg, client_id) as link:
        await link.wait_connected(10)
        task = asyncio.create_task(serve(link, intake_on(store, cfg)))
        try:
            yield store
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def refs(store: Store) -> set[str]:
    """The job ids `store` holds."""
    return {ref for (ref,) in await db_rows(store, "SELECT ref FROM messages")}


async def publish_jobs(broker: Broker, prefix: str, numbers: range) -> set[str]:
    async with aiomqtt.Client(broker.host, port=broker.port) as agency:
        for n in numbers:
            await agency.publish(f"{prefix}/SCT/sms", job(n).payload, qos=1)
    return {f"job-{n}" for n in numbers}


def held_by(member: Member) -> set[str]:
    """The job ids a member printed as received (`got <topic> <payload>`)."""
    return {json.loads(line.split(" ", 1)[1])["id"] for line in member.got}


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"
