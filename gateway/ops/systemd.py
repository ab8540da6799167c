"""systemd's notification protocol (sd_notify), spoken over a plain datagram socket.

The unit is `Type=notify` with `WatchdogSec=`: the gateway tells systemd when it is really
ready (store open, intake running), keeps a one-line `STATUS=` for `systemctl status`,
proves that its main loop is alive with `WATCHDOG=1`, and says `STOPPING=1` on the way out.

The protocol is small enough not to need libsystemd: newline-separated `KEY=VALUE` lines
in one datagram to the AF_UNIX socket named by `$NOTIFY_SOCKET` (a path, or `@name` for
the abstract namespace). Without that variable (a terminal, a test, another supervisor)
every call is a no-op.

A notification is a courtesy to the supervisor, never a reason to stop: sends do not
block, and a failed send is logged once and otherwise ignored.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

import structlog

__all__ = ["Notifier"]

log = structlog.get_logger("gateway.ops.systemd")

NOTIFY_SOCKET_ENV = "NOTIFY_SOCKET"
WATCHDOG_USEC_ENV = "WATCHDOG_USEC"
WATCHDOG_PID_ENV = "WATCHDOG_PID"


def _address(value: str) -> str | bytes | None:
    """The socket address for `$NOTIFY_SOCKET`, None when it is not one we can use."""
    if value.startswith("/"):
        return value
    if value.startswith("@") and len(value) > 1:
        # Abstract namespace: a leading NUL instead of '@', no trailing NUL.
        return b"\0" + os.fsencode(value[1:])
    return None


def _one_line(text: str) -> str:
    """A `STATUS=` value: the protocol is line-based, so a newline would start a new key."""
    return " ".join(text.splitlines())


class Notifier:
    """Sends state changes to systemd, or nothing when not started by it.

    Args:
        environ: the process environment; None means `os.environ`. Read once, here:
            `NOTIFY_SOCKET`, `WATCHDOG_USEC`, `WATCHDOG_PID`.

    Example:
        notifier = Notifier()
        notifier.ready("bound, 0 queued")
        ...
        notifier.stopping()
        notifier.close()
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self._socket: socket.socket | None = None
        self._address: str | bytes | None = None
        self._failed = False
        self._watchdog_interval = _watchdog_interval(env)

        raw = env.get(NOTIFY_SOCKET_ENV, "")
        if not raw:
            return
        address = _address(raw)
        if address is None:
            log.warning("notify_socket_unsupported", notify_socket=raw)
            return
        try:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        except OSError as exc:
            log.warning("notify_socket_failed", notify_socket=raw, error=str(exc))
            return
        sock.setblocking(False)
        self._socket = sock
        self._address = address

    @property
    def enabled(self) -> bool:
        """True when notifications go somewhere (started by systemd with `Type=notify`)."""
        return self._socket is not None

    @property
    def watchdog_interval(self) -> float | None:
        """Seconds between `watchdog()` calls: half of `WatchdogSec=`, None when not asked.

        The watchdog is meant for this process only when `$WATCHDOG_PID` is unset or is
        our pid (a child that inherited the environment must not ping for its parent).
        """
        return self._watchdog_interval

    def ready(self, status: str | None = None) -> None:
        """Start-up is complete: systemd marks the unit active and `systemctl start` returns."""
        lines = ["READY=1"]
        if status is not None:
            lines.append(f"STATUS={_one_line(status)}")
        self._send("\n".join(lines))

    def reloading(self) -> None:
        """A reload (SIGHUP) has begun; `ready()` again when it is done."""
        self._send("RELOADING=1")

    def status(self, text: str) -> None:
        """The one line shown by `systemctl status`, e.g. `bound, 12 queued`."""
        self._send(f"STATUS={_one_line(text)}")

    def stopping(self) -> None:
        """Shutdown has begun: systemd shows `deactivating` instead of a failure."""
        self._send("STOPPING=1")

    def watchdog(self) -> None:
        """The main loop is alive. Call every `watchdog_interval` seconds."""
        self._send("WATCHDOG=1")

    def close(self) -> None:
        """Release the socket; later calls are no-ops. Safe to call twice."""
        sock, self._socket = self._socket, None
        if sock is not None:
            sock.close()

    def _send(self, message: str) -> None:
        sock = self._socket
        if sock is None or self._address is None:
            return
        try:
            sock.sendto(message.encode("utf-8"), self._address)
        except OSError as exc:
            # The socket went away (systemd re-executed, the unit changed) or its queue is
            # full: nothing the gateway can do, and no reason for it to stop.
            if not self._failed:
                self._failed = True
                log.warning(
                    "notify_failed",
                    notify_socket=_printable(self._address),
                    error=str(exc),
                )


def _printable(address: str | bytes) -> str:
    if isinstance(address, bytes):
        return "@" + os.fsdecode(address[1:])
    return address


def _watchdog_interval(env: Mapping[str, str]) -> float | None:
    raw = env.get(WATCHDOG_USEC_ENV, "")
    try:
        usec = int(raw)
    except ValueError:
        return None
    if usec <= 0:
        return None
    pid = env.get(WATCHDOG_PID_ENV, "")
    if pid:
        try:
            if int(pid) != os.getpid():
                return None
        except ValueError:
            return None
    return usec / 2 / 1_000_000
