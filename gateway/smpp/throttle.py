"""A throttle pause shared by the sessions of one account.

A carrier counts submits per account, not per bind: an ESME_RTHROTTLED on one session
means the account is over its rate, and every session of it must hold off, or the others
keep writing into the throttle (about one refused submit per message with four binds).
`Account` makes one `ThrottlePause` and hands it to each of its sessions; a lone
`Session` has its own.
"""

from __future__ import annotations

import asyncio
import time

__all__ = ["ThrottlePause"]


class ThrottlePause:
    """Until when submits wait after a throttle answer (monotonic seconds)."""

    def __init__(self) -> None:
        self.until = 0.0

    def hold(self, pause: float) -> None:
        """A throttle answer: no submit before `pause` seconds from now (a later answer
        never shortens a pause already running)."""
        self.until = max(self.until, time.monotonic() + pause)

    @property
    def active(self) -> bool:
        """A pause is running: a submit that waited for its TPS slot meanwhile (another
        session's answer came) waits it out too rather than write into the throttle."""
        return self.until > time.monotonic()

    async def wait(self) -> None:
        """Until the pause is over (at once when there is none)."""
        while (left := self.until - time.monotonic()) > 0:
            await asyncio.sleep(left)
