"""Composition root: builds the parts from the configuration and runs them in order.

    hold the store (one daemon per SQLite store) → admin port → open store → register
    this daemon among the store's daemons (refused if its name is alive) → receipts tracker,
    MO dispatcher → the channels beside SMS (Zalo's client and webhook endpoint:
    gateway/channels.py) → SMSC links (each its sessions) → MQTT link → admin reports them →
    intake, sender, status publisher, apology schedule, retention, receipt expiry (each
    under its lease: on one daemon of the store), heartbeats (store, watchdog) → READY=1 → wait
    for stop → STOPPING=1 → stop intake → drain the sender (bounded) → stop the rest
    → close admin, MQTT, unbind SMPP, leave (claims, leases freed), close, release the store.

Data goes one way: MQTT → intake → store → sender → SMSC, and SMSC → tracker → store →
publisher → MQTT. No part holds another; they meet in the store.

This is the one place that reads the whole `Config`: each part is handed its own section,
or the small settings type it declares (`*_settings` below build them), and only the store
repositories it uses. A SIGHUP hands the same typed settings again (`_Reloaded`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import MappingProxyType

import structlog

from gateway.calendar.workdays import QuietHours
from gateway.channels import channels
from gateway.compose.apology import Apologies, ApologySettings
from gateway.compose.composer import Composer, ComposerSettings
from gateway.intake.consumer import Intake, IntakeSettings
from gateway.intake.payloads import MAX_PAYLOAD
from gateway.intake.serving import intake_filters, serve_intake
from gateway.mo.dispatcher import Dispatcher, DispatcherSettings, HandlerError, load_handlers
from gateway.mqtt.link import MqttLink
from gateway.ops.admin import Admin, Observed
from gateway.ops.supervision import cancel, heartbeat_pause, supervised
from gateway.ops.systemd import Notifier
from gateway.outbound.publisher import publish_statuses
from gateway.outbound.routing import Leg, Router
from gateway.outbound.sender import Sender
from gateway.outbound.tracker import Tracker, expire_unreceipted
from gateway.settings.config import Config, ConfigError, load_config
from gateway.settings.reload import Reload
from gateway.smpp.account import Account
from gateway.smpp.inbound import Inbound, Mo
from gateway.smpp.text import Encoding
from gateway.store.claims import Claimant
from gateway.store.daemons import keep_alive, new_instance
from gateway.store.leases import Job, leased
from gateway.store.lock import hold
from gateway.store.retention import purge_daily
from gateway.store.store import Store

log = structlog.get_logger("gateway.app")


# Seconds start-up waits for the SMPP bind and the broker before READY=1.
READY_WAIT = 5.0
# Seconds READY=1 waits for its status line from the store; READY=1 goes without it after.
STATUS_WAIT = 2.0


class Gateway:
    """The daemon: `await Gateway(config).run(stop)`; `reload()` on SIGHUP."""

    def __init__(self, config: Config, *, notifier: Notifier | None = None) -> None:
        self.config = config
        self.notifier = notifier or Notifier(environ={})
        self.admin_port: int | None = None
        # The parts that take a SIGHUP's settings, once they run.
        self._running: _Reloaded | None = None

    def reload(self, new: Config | None = None) -> bool:
        """Apply the configuration file again (or `new`); on any error keep the old one."""
        self.notifier.reloading()
        try:
            if new is None:
                if self.config.source_path is None:
                    raise ConfigError("no configuration file to reload")
                new = load_config(self.config.source_path)
            change = Reload.of(self.config, new)
            load_handlers(change.config.keywords)  # refuse before anything changes
        except (ConfigError, HandlerError) as exc:
            log.error("reload_refused", error=str(exc), kept="the running configuration")
            self.notifier.ready()
            return False
        merged = change.config
        if self._running is not None:
            self._running.reconfigure(merged)
        self.config = merged
        if change.needs_restart:
            log.warning("reload_needs_restart", sections=list(change.needs_restart))
        log.info("reload_done", agencies=sorted(merged.agencies), keywords=sorted(merged.keywords))
        self.notifier.ready()
        return True

    async def run(self, stop: asyncio.Event, *, on_ready: Callable[[], None] | None = None) -> None:
        """Run until `stop` is set, then shut down in order."""
        config = self.config
        prefix = config.mqtt.topic_prefix
        composer = Composer(composer_settings(config))
        async with contextlib.AsyncExitStack() as stack:
            # Before the store is touched: a second daemon is refused (StoreHeld) before it
            # migrates, sends or connects to the broker under the same client id.
            stack.enter_context(hold(config.store.location))
            # The admin port next: taken by another service, it is a start-up refusal
            # (AdminUnavailable, exit 3) before the store is migrated or anything is bound.
            admin: Admin | None = None
            if config.admin.enabled:
                admin = await stack.enter_async_context(
                    Admin(None, config.admin.host, config.admin.port)
                )
                self.admin_port = admin.port
            me = Claimant.of(config.daemon, new_instance())
            store = await stack.enter_async_context(
                Store.open(config.store.location, password=config.store.password, claimant=me)
            )
            # A live daemon of the same name: DaemonNameTaken (exit 3), before any claim.
            await store.daemons.register()
            stack.push_async_callback(store.daemons.leave)
            await store.figure_days.follow(config.tz)  # the figures' days are local days
            tracker = await stack.enter_async_context(Tracker(store.receipts))
            dispatcher = await stack.enter_async_context(
                Dispatcher(store.mo_log, store.dossiers, composer, dispatcher_settings(config))
            )

            async def on_deliver(item: Inbound, link_id: str) -> None:
                if isinstance(item, Mo):
                    await dispatcher.receive(item)
                else:
                    await tracker.record(item, link_id)

            # Before the SMSC is bound: a Zalo webhook port another service holds is a
            # start-up refusal (ListenRefused, exit 3), not a restart loop with binds.
            beside = await stack.enter_async_context(
                channels(config, store, dispatcher, quiet=quiet_hours(config))
            )
            accounts = [
                await stack.enter_async_context(
                    Account(
                        link.id,
                        link,
                        on_deliver,
                        binds=link.binds,
                        account_tps=link.account_tps,
                    )
                )
                for link in config.links
            ]
            router = router_for(config, accounts)
            link = await stack.enter_async_context(
                MqttLink(
                    config.mqtt.link_settings(max_payload=MAX_PAYLOAD),
                    intake_filters(prefix, config.mqtt.shared_group),
                )
            )
            intake = Intake(store.dossiers, store.outbox, composer, intake_settings(config))
            observed = Observed(
                accounts,
                link,
                store.outbox,
                receipts=tracker.by_state,
                mo=dispatcher.outcomes,
                repeated_ids=intake.repeats.counts,
                router=router,
                daemons=store.daemons,
            )
            if admin is not None:
                admin.observe(observed)
            apologies = Apologies(store.apologies, composer, apology_settings(config))
            self._running = _Reloaded(composer, intake, dispatcher, apologies)
            sender = Sender(
                store.outbox,
                router,
                config.retry,
                encoding=encoding(config),
                quiet=quiet_hours(config),
                tz=config.tz,
            )

            def purge() -> Awaitable[None]:
                return purge_daily(store.retention, config.store)

            def sweep() -> Awaitable[None]:
                return expire_unreceipted(
                    store.receipts,
                    config.smpp.receipt_timeout,
                    receiving=lambda: {a.id: a.bound for a in accounts},
                )

            beat_every = config.daemon.heartbeat_every  # the daemon's, in the store
            intake_task = supervised("intake", lambda: serve_intake(link, intake))
            others = [
                supervised("sender", sender.run),
                supervised(
                    "publisher", lambda: publish_statuses(store.statuses, link, prefix, config.tz)
                ),
                supervised("apology", leased(store.leases, Job.APOLOGY, apologies.run)),
                supervised("retention", leased(store.leases, Job.RETENTION, purge)),
                supervised("receipt_expiry", leased(store.leases, Job.RECEIPT_SWEEP, sweep)),
                supervised(
                    "daemon_heartbeat",
                    lambda: keep_alive(store.daemons, beat_every),
                    longest=heartbeat_pause(beat_every),
                ),
                supervised("heartbeat", lambda: self._heartbeat(observed)),
                *(supervised(name, run) for name, run in beside),
            ]
            log.info("gateway_started", agencies=sorted(config.agencies), admin=self.admin_port)
            with contextlib.suppress(TimeoutError):
                # Ready means working: give the bind and the broker a moment, not forever
                # (the gateway queues and retries without them; STATUS= says what is down).
                async with asyncio.timeout(READY_WAIT):
                    await asyncio.gather(*(a.wait_bound() for a in accounts), link.wait_connected())
            self.notifier.ready(await _status_line(observed, STATUS_WAIT))
            if on_ready is not None:
                on_ready()
            watch = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait(
                [watch, intake_task, *others], return_when=asyncio.FIRST_COMPLETED
            )
            for task in done:
                if task is not watch and not task.cancelled() and task.exception():
                    log.error(
                        "gateway_part_failed", part=task.get_name(), error=repr(task.exception())
                    )
            log.info("gateway_stopping")
            self.notifier.stopping()
            await cancel(intake_task)
            await sender.drain(config.smpp.shutdown_timeout)
            for task in [watch, *others]:
                await cancel(task)
        log.info("gateway_stopped")

    async def _heartbeat(self, observed: Observed) -> None:
        """WATCHDOG=1 from the main loop (a wedged loop stops it) and a fresh STATUS=.

        The status line waits for the store at most half an interval: a slow store must
        delay the status line, never the next WATCHDOG=1 (systemd would kill the daemon).
        """
        interval = min(self.notifier.watchdog_interval or 10.0, 10.0)
        while True:
            self.notifier.watchdog()
            line = await _status_line(observed, interval / 2)
            if line is not None:
                self.notifier.status(line)
            await asyncio.sleep(interval)


# -- what each part is handed: built here, from the whole configuration, only --------


def router_for(config: Config, accounts: list[Account]) -> Router:
    """The links in routing order, each with its routes and when to go to the next."""
    return Router(
        [
            Leg(
                account,
                link.routes,
                link.reroute,
                link.failover_after,
                link.source_addr,
                link.shortcodes,
            )
            for account, link in zip(accounts, config.links, strict=True)
        ]
    )


def quiet_hours(config: Config) -> QuietHours | None:
    """`schedule.quiet_hours`, for the composer (queueing) and the sender (sending)."""
    quiet = config.schedule.quiet_hours
    return QuietHours(*quiet) if quiet else None


def encoding(config: Config) -> Encoding:
    """The SMSC's encoding: whoever counts segments counts them as the sender cuts them."""
    return Encoding(config.smpp.ref16, config.smpp.default_alphabet)


def composer_settings(config: Config) -> ComposerSettings:
    """The composer's: agencies, the zone and quiet hours it dates with, the brandname, the
    SMSC's encoding, the TTL."""
    return ComposerSettings(
        agencies=config.agencies,
        tz=config.tz,
        source_addr=config.smpp.source_addr,
        encoding=encoding(config),
        quiet=quiet_hours(config),
        ttl=config.retry.ttl,
        zns=config.zalo.templates if config.zalo is not None else MappingProxyType({}),
    )


def intake_settings(config: Config) -> IntakeSettings:
    """Intake's: the agencies it accepts, the topics it reads, the zone of its dates."""
    return IntakeSettings(
        agencies=config.agencies, topic_prefix=config.mqtt.topic_prefix, tz=config.tz
    )


def dispatcher_settings(config: Config) -> DispatcherSettings:
    """The MO path's: keywords, MO limits, the shortcodes, and what handlers' replies are
    rendered and counted with."""
    return DispatcherSettings(
        keywords=config.keywords,
        mo=config.mo,
        agencies=config.agencies,
        shortcodes=tuple(dict.fromkeys(c for link in config.links for c in link.shortcodes)),
        tz=config.tz,
        encoding=encoding(config),
    )


def apology_settings(config: Config) -> ApologySettings:
    """The apology run's: the agencies that send apologies, the working-day calendar and
    `apology_at` in the office's zone."""
    return ApologySettings(agencies=config.agencies, schedule=config.schedule, tz=config.tz)


@dataclass(frozen=True, slots=True)
class _Reloaded:
    """The running parts that take a SIGHUP's settings (`gateway.settings.reload` says
    which settings those are), each handed its own again."""

    composer: Composer
    intake: Intake
    dispatcher: Dispatcher
    apologies: Apologies

    def reconfigure(self, config: Config) -> None:
        self.composer.reconfigure(composer_settings(config))
        self.intake.reconfigure(intake_settings(config))
        self.dispatcher.reconfigure(dispatcher_settings(config))
        self.apologies.reconfigure(apology_settings(config))


async def _status_line(observed: Observed, wait: float) -> str | None:
    """systemd's STATUS= line, or None when the store does not answer within `wait`
    seconds (or fails): a busy store delays the line, never what the caller does next."""
    try:
        async with asyncio.timeout(wait):
            snapshot = await observed.snapshot()
    except TimeoutError:
        log.warning("status_line_skipped", reason="store busy", waited=wait)
        return None
    except Exception as exc:
        log.warning("status_line_skipped", reason=type(exc).__name__)
        return None
    return snapshot.summary()


async def serve(
    config: Config, stop: asyncio.Event, *, on_ready: Callable[[], None] | None = None
) -> None:
    """Run the gateway until `stop` is set (tests and the demo; the CLI uses Gateway)."""
    await Gateway(config).run(stop, on_ready=on_ready)
