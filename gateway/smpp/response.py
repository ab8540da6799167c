"""Waiting for a submit_sm's answer: the rule that keeps a slow SMSC from costing copies.

- A submit_sm unanswered after `response_timeout` is *overdue*: logged and counted, and
  still awaited on its connection, its window slot held (the carrier's window is never
  exceeded). A submit_sm_resp that comes later on the same connection settles it like
  any other: a carrier answering at 31 s against a 30 s timeout costs time, never a
  duplicate.
- A submit unanswered after `relink_after` (default 4 × `response_timeout`) *retires*
  its connection, as Kannel's `wait-ack` with its default `wait-ack-expire` (reconnect)
  does: no new submits go on it, the others still out get up to `response_timeout` more
  to be answered, then it is unbound, closed and bound again. So a few silent submits
  hold their window slots for a bounded time, never for ever.
- Only a submit whose connection closed without an answer raises `OutcomeUnknown`, for
  the caller to send again (and count as an attempt, so that a submit the SMSC never
  answers still ends): at most one window of duplicates per broken connection (an
  account of N sessions all breaking: N windows).
- A status of class `rebind` (ESME_RINVBNDSTS: the SMSC no longer counts us as bound)
  retires the connection the same way; the session sends the same PDU on the next bind.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import structlog

from gateway.smpp.errors import ConnectError, OutcomeUnknown, SmppError
from gateway.smpp.link import Link, Pending
from gateway.smpp.model import SessionConfig, SessionStats
from gateway.smpp.pdu import Status

log = structlog.get_logger("gateway.smpp.response")

Spawn = Callable[..., "asyncio.Task[Any]"]


class ResponseWaiter:
    """Sends requests that may be answered late, and retires links that never answer."""

    def __init__(self, config: SessionConfig, stats: SessionStats, spawn: Spawn) -> None:
        self._config = config
        self._stats = stats
        self._spawn = spawn

    async def exchange(self, link: Link, command: str, fields: dict[str, Any]) -> Any:
        """Write one request and return its response, awaited as long as its connection
        lasts: `response_timeout` only marks it overdue; at `relink_timeout` the
        connection is retired, which ends the wait one way or the other within a bounded
        time. Raises `ConnectError` (not written) or `OutcomeUnknown` (link closed first).
        """
        cfg = self._config
        pending = link.send(command, **fields)
        try:
            if await _answered(pending, cfg.response_timeout):
                return _result(pending)
            self._stats.responses_overdue += 1
            log.warning(
                "smpp_response_overdue",
                link=link.name,
                command=command,
                sequence=pending.sequence,
                waited_s=cfg.response_timeout,
            )
            if not await _answered(pending, cfg.relink_timeout - cfg.response_timeout):
                self.retire(link, f"{command} unanswered", keep=pending.sequence)
            await asyncio.wait({pending.future})
            resp = _result(pending)
            self._stats.late_responses += 1
            log.info(
                "smpp_late_response",
                link=link.name,
                command=command,
                sequence=pending.sequence,
                after_s=round(time.monotonic() - pending.sent_at, 3),
            )
            return resp
        finally:
            link.forget(pending)

    def retire(self, link: Link, reason: str, *, keep: int | None = None) -> None:
        """Take `link` out of use: no new submits; closed once the others are answered.

        `keep` names a sequence not to wait for (the silent submit that caused this).
        Safe to call more than once; the first reason is the one logged.
        """
        if keep is not None:
            link.expired.add(keep)
        if link.retiring or not link.is_open:
            return
        link.retiring = True
        self._stats.relinks += 1
        log.warning("smpp_relink", link=link.name, reason=reason, unanswered=link.in_flight)
        self._spawn(self._recycle(link), name=f"smpp[{link.name}].relink")

    async def _recycle(self, link: Link) -> None:
        timeout = self._config.response_timeout
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await link.wait_answered(link.expired)
        if link.is_open:
            with contextlib.suppress(SmppError):
                await link.request("unbind", timeout=min(5.0, timeout))
        link.close(ConnectError("retired"))


def usable(link: Link) -> bool:
    """Open and not retiring: a new submit may go on it."""
    return link.is_open and not link.retiring


def status_of(resp: Any) -> int:
    """The status a response gives its submit. A generic_nack never means accepted: one
    saying 0 (seen from real SMSCs) is taken as ESME_RSYSERR, a transient failure."""
    if resp.command == "generic_nack" and resp.status == Status.ESME_ROK:
        return Status.ESME_RSYSERR
    return resp.status


async def _answered(pending: Pending, timeout: float) -> bool:
    """Whether `pending` got its response (or its link ended) within `timeout`."""
    if timeout > 0 and not pending.future.done():
        await asyncio.wait({pending.future}, timeout=timeout)
    return pending.future.done()


def _result(pending: Pending) -> Any:
    try:
        return pending.future.result()
    except ConnectError as exc:
        raise OutcomeUnknown(f"link closed before {pending.command}_resp") from exc


__all__ = ["ResponseWaiter", "status_of", "usable"]
