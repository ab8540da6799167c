"""One connection to the SMSC made a bind, and kept alive while it lasts.

The session decides when to connect and how long to wait after a failure; this is what
happens on one connection: connect, bind (a refusal is `BindError`, with its status, so
credentials errors can be told apart), and enquire_link every interval, closing the link
when nothing at all was heard for two intervals.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import structlog

from gateway.smpp.codes import Status
from gateway.smpp.errors import BindError, ConnectError, ProtocolError, SmppError
from gateway.smpp.framing import Sequence
from gateway.smpp.link import Link, RequestHandler
from gateway.smpp.model import SessionConfig

log = structlog.get_logger("gateway.smpp.session")

Spawn = Callable[..., "asyncio.Task[Any]"]

# Bind mode → (role, bind command) of each of its connections.
ROLES: dict[str, tuple[tuple[str, str], ...]] = {
    "transceiver": (("trx", "bind_transceiver"),),
    "transmitter_receiver": (("tx", "bind_transmitter"), ("rx", "bind_receiver")),
}


async def bind(
    config: SessionConfig,
    role: str,
    command: str,
    *,
    on_request: RequestHandler,
    on_malformed: Callable[[ProtocolError], None],
    sequence: Sequence,
    spawn: Spawn,
) -> Link:
    """A bound `Link`, its reader running. Raises ConnectError (no connection),
    OutcomeUnknown (no bind response) or BindError (refused); nothing is left open."""
    link = await Link.open(
        config.host,
        config.port,
        timeout=config.connect_timeout,
        name=role,
        on_request=on_request,
        on_malformed=on_malformed,
        sequence=sequence,
    )
    reader = spawn(link.read_loop(), name=f"smpp[{role}].reader")
    try:
        resp = await link.request(
            command,
            timeout=config.response_timeout,
            system_id=config.system_id,
            password=config.password,
            system_type=config.system_type,
            addr_ton=0,
            addr_npi=0,
            address_range="",
        )
    except BaseException:
        link.close()
        reader.cancel()
        raise
    if resp.status != Status.ESME_ROK:
        link.close()
        raise BindError(resp.status, sequence=resp.sequence, command=command)
    return link


async def serve(link: Link, interval: float, spawn: Spawn) -> None:
    """Until the link closes, keeping it alive with enquire_link."""
    keepalive = spawn(_keepalive(link, interval, spawn), name=f"smpp[{link.name}].keepalive")
    try:
        await link.wait_closed()
    finally:
        keepalive.cancel()


async def _keepalive(link: Link, interval: float, spawn: Spawn) -> None:
    """enquire_link every interval; nothing heard for two intervals means a dead link."""
    while link.is_open:
        await asyncio.sleep(interval)
        silent = time.monotonic() - link.last_rx
        if silent >= 2 * interval:
            log.warning("smpp_link_dead", link=link.name, silent_s=round(silent, 1))
            link.close(ConnectError("no answer to enquire_link"))
            return
        spawn(_ping(link, 2 * interval), name=f"smpp[{link.name}].enquire_link")


async def _ping(link: Link, timeout: float) -> None:
    with contextlib.suppress(SmppError):
        await link.request("enquire_link", timeout=timeout)


async def unbind(link: Link, timeout: float) -> None:
    """Unbind politely (bounded), then close."""
    if link.is_open:
        with contextlib.suppress(SmppError):
            await link.request("unbind", timeout=timeout)
    link.close()


__all__ = ["ROLES", "bind", "serve", "unbind"]
