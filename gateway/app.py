"""Composition root: builds the parts from the configuration and runs them in order.

    open store → start SMPP session → start MQTT link → intake, sender, tracker,
    status publisher, apology schedule → wait for stop → stop intake → drain the sender
    (bounded) → unbind → close the store.

Data goes one way: MQTT → intake → store → sender → SMSC, and SMSC → tracker → store →
publisher → MQTT. No part holds another; they meet in the store.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import structlog

from gateway.apology import Apologies
from gateway.composer import Composer
from gateway.config import Config, SmppConfig
from gateway.dispatcher import Dispatcher
from gateway.intake import Intake
from gateway.intake import serve as serve_intake
from gateway.mqtt import MqttLink, MqttSettings
from gateway.outbox import Sender
from gateway.publisher import publish_statuses
from gateway.smpp.inbound import Inbound, Mo
from gateway.smpp.session import Session, SessionConfig
from gateway.store import Store
from gateway.tracker import Tracker

log = structlog.get_logger("gateway.app")


def session_config(smpp: SmppConfig) -> SessionConfig:
    return SessionConfig(
        host=smpp.host,
        port=smpp.port,
        system_id=smpp.system_id,
        password=smpp.password,
        system_type=smpp.system_type,
        bind=smpp.bind,
        window=smpp.window,
        tps=smpp.tps,
        enquire_link_interval=smpp.enquire_link_interval,
        response_timeout=smpp.response_timeout,
        connect_timeout=smpp.connect_timeout,
        reconnect_min=smpp.reconnect_min,
        reconnect_max=smpp.reconnect_max,
        auth_backoff=smpp.auth_backoff,
        throttle_pause=smpp.throttle_pause,
        shutdown_timeout=smpp.shutdown_timeout,
        mo_reassembly_timeout=smpp.mo_reassembly_timeout,
        status_classes=smpp.status_classes,
    )


def mqtt_settings(config: Config) -> MqttSettings:
    m = config.mqtt
    return MqttSettings(
        host=m.host,
        port=m.port,
        client_id=m.client_id,
        username=m.username,
        password=m.password,
        keepalive=m.keepalive,
        session_expiry=m.session_expiry,
    )


async def serve(
    config: Config, stop: asyncio.Event, *, on_ready: Callable[[], None] | None = None
) -> None:
    """Run the gateway until `stop` is set, then shut down in order."""
    prefix = config.mqtt.topic_prefix
    composer = Composer(config)
    async with (
        Store.open(config.store.path) as store,
        Tracker(store) as tracker,
        Dispatcher(store, composer, config) as dispatcher,
    ):

        async def on_deliver(item: Inbound) -> None:
            if isinstance(item, Mo):
                await dispatcher.receive(item)
            else:
                await tracker.record(item)

        session = Session(session_config(config.smpp), on_deliver)
        link = MqttLink(mqtt_settings(config), [f"{prefix}/+/dossier", f"{prefix}/+/sms"])
        sender = Sender(store, session, config.retry, ref16=config.smpp.ref16)
        apologies = Apologies(store, composer, config)
        async with session, link:
            intake = asyncio.create_task(
                serve_intake(link, Intake(store, composer, config)), name="intake"
            )
            others = [
                asyncio.create_task(sender.run(), name="sender"),
                asyncio.create_task(publish_statuses(store, link, prefix), name="publisher"),
                asyncio.create_task(apologies.run(), name="apology"),
            ]
            log.info("gateway_started", agencies=sorted(config.agencies))
            if on_ready is not None:
                on_ready()
            watch = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait(
                [watch, intake, *others], return_when=asyncio.FIRST_COMPLETED
            )
            for task in done:
                if task is not watch and not task.cancelled() and task.exception():
                    log.error(
                        "gateway_part_failed", part=task.get_name(), error=repr(task.exception())
                    )
            log.info("gateway_stopping")
            await _cancel(intake)
            await sender.drain(config.smpp.shutdown_timeout)
            for task in [watch, *others]:
                await _cancel(task)
        log.info("gateway_stopped")


async def _cancel(task: asyncio.Task[object]) -> None:
    task.cancel()
    with contextlib.suppress(BaseException):
        await task
