"""The OA access token, refreshed from the rotating refresh token before it expires.

Zalo's OAuth v4 (`POST oauth_url`, form `app_id`, `grant_type=refresh_token`,
`refresh_token`, header `secret_key`) answers `{"access_token", "refresh_token",
"expires_in"}` (`expires_in` a string of seconds) or `{"error": <negative>, "error_name",
"error_description"}`. Each refresh token works once: the answer's new one replaces it,
and losing it means the agency must authorise the app again. So the new refresh token is
written durably (a temporary file in the same directory, fsync, rename over the old one,
fsync the directory; mode 0600) before the new access token is used, and a restart reads
it back from `refresh_token_file`.

Concurrent callers share one refresh (single flight): a burst of notices at 07:00 makes
one request, not one per notice, which would also spend the refresh token N times (all
but the first refused). No token ever reaches a log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import structlog

from gateway.settings.zalo import ZaloConfig
from gateway.zalo.errors import TokenRefused, TokenUnavailable

log = structlog.get_logger("gateway.zalo.tokens")

Clock = Callable[[], float]


def read_refresh_token(path: str) -> str:
    """The refresh token kept at `path`, less surrounding whitespace.

    Raises TokenRefused for a missing or empty file: only an operator can put one there.
    """
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise TokenRefused(0, f"cannot read refresh_token_file: {type(exc).__name__}") from None
    if not token:
        raise TokenRefused(0, "refresh_token_file is empty")
    return token


def keep_refresh_token(path: str, token: str) -> None:
    """Replace the token at `path` with `token` so that a crash at any moment leaves either
    the old file or the new one, whole, on disk (mode 0600)."""
    target = Path(path)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(token + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _seconds(value: Any) -> float:
    """`expires_in` as Zalo writes it (a string of seconds) or as a number."""
    if isinstance(value, bool):
        raise ValueError("expires_in is a boolean")
    seconds = float(value)
    if not seconds > 0:
        raise ValueError("expires_in is not positive")
    return seconds


class TokenKeeper:
    """`await keeper.access_token()` is a token valid for at least `refresh_before` more
    seconds, refreshed (once, for all concurrent callers) when needed. A token that lives
    less than twice `refresh_before` (a simulator's short one) is refreshed half-way
    through its life instead, not before every request.

    `clock` is monotonic seconds (`time.monotonic`; a test's settable clock).
    """

    def __init__(self, settings: ZaloConfig, session: aiohttp.ClientSession, clock: Clock) -> None:
        self._settings = settings
        self._session = session
        self._clock = clock
        self._token: str | None = None
        self._refresh_at = 0.0
        self._flight: asyncio.Future[str] | None = None
        self._unsaved: str | None = None  # a rotated refresh token its write failed for
        self.refreshes = 0  # refreshes Zalo granted, for the status and the tests

    async def access_token(self) -> str:
        """The current access token, refreshed first when there is none or it expires
        within `refresh_before`.

        Raises TokenRefused (STOP) when Zalo refuses the refresh token, TokenUnavailable
        (RETRY) when the refresh gets no usable answer.
        """
        token = self._token
        if token is not None and self._clock() < self._refresh_at:
            return token
        if self._flight is None:
            flight = asyncio.ensure_future(self._refresh())
            self._flight = flight
            flight.add_done_callback(self._landed)
        # Shielded: a caller cancelled while waiting never cancels the refresh, which may
        # be between Zalo's answer and the write of the rotated refresh token.
        return await asyncio.shield(self._flight)

    def invalidate(self, token: str | None = None) -> None:
        """Make the next `access_token()` refresh (Zalo said the token is invalid).

        With `token`, only if it is still the current one: callers that all saw the same
        token refused cause one refresh, not one each.
        """
        if token is None or token == self._token:
            self._token = None
            self._refresh_at = 0.0

    def _landed(self, flight: asyncio.Future[str]) -> None:
        if self._flight is flight:
            self._flight = None
        if not flight.cancelled():
            flight.exception()  # retrieved: a failure every caller saw is not "never retrieved"

    async def _refresh(self) -> str:
        settings = self._settings
        if self._unsaved is not None:
            # The last rotated token is only in memory (its write failed): written first,
            # it is the one to refresh with; the file's is spent.
            await self._keep(self._unsaved)
            self._unsaved = None
        refresh_token = read_refresh_token(settings.refresh_token_file)
        answer = await self._post(refresh_token)
        if "error" in answer and answer["error"] not in (0, "0"):
            code = _code(answer["error"])
            name = str(answer.get("error_name") or answer.get("message") or "refused")
            log.error("zalo_token_refresh_refused", code=code, error_name=name[:80])
            raise TokenRefused(code, f"refresh refused: {name[:80]}")
        try:
            access = answer["access_token"]
            rotated = answer["refresh_token"]
            lifetime = _seconds(answer["expires_in"])
            if not (isinstance(access, str) and access and isinstance(rotated, str) and rotated):
                raise ValueError("tokens are not text")
        except (KeyError, TypeError, ValueError) as exc:
            log.error("zalo_token_refresh_failed", reason=f"malformed answer: {exc}"[:120])
            raise TokenUnavailable(0, "malformed refresh answer") from None
        try:
            await self._keep(rotated)
        except TokenUnavailable:
            # Kept in memory, the only copy now (the file's is spent): written before
            # anything else at the next refresh, which is tried again like any passing
            # failure. Lost only if the daemon stops before the disk takes it.
            self._unsaved = rotated
            raise
        self._token = access
        ahead = min(settings.refresh_before, lifetime / 2)
        self._refresh_at = self._clock() + lifetime - ahead
        self.refreshes += 1
        log.info("zalo_token_refreshed", expires_in=int(lifetime))
        return access

    async def _keep(self, rotated: str) -> None:
        """Write the rotated refresh token durably; TokenUnavailable (RETRY) if it cannot
        be: its access token is not used until it is, since without the file the next
        restart could not refresh at all."""
        try:
            await asyncio.to_thread(keep_refresh_token, self._settings.refresh_token_file, rotated)
        except OSError as exc:
            log.critical("zalo_refresh_token_not_kept", error=exc.strerror or type(exc).__name__)
            raise TokenUnavailable(0, "the rotated refresh token could not be written") from None

    async def _post(self, refresh_token: str) -> dict[str, Any]:
        settings = self._settings
        form = {
            "app_id": settings.app_id,
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
        }
        try:
            async with self._session.post(
                settings.oauth_url,
                data=form,
                headers={"secret_key": settings.secret_key},
                timeout=aiohttp.ClientTimeout(total=settings.timeout),
            ) as response:
                status = response.status
                body = await response.read()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.warning("zalo_token_refresh_failed", reason=type(exc).__name__)
            raise TokenUnavailable(0, f"no answer: {type(exc).__name__}") from None
        try:
            answer = json.loads(body)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            log.warning("zalo_token_refresh_failed", reason="answer not JSON", http_status=status)
            raise TokenUnavailable(status if status >= 400 else 0, "answer not JSON")
        if status >= 500 or status == 429:
            log.warning("zalo_token_refresh_failed", reason="server busy", http_status=status)
            raise TokenUnavailable(status, f"HTTP {status}")
        return answer


def _code(value: Any) -> int:
    """Zalo's `error` as an int (it is one; a string of one is taken too)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
