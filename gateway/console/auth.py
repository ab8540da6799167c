"""Who is logged in: password hashes, server-side sessions, and the brake on guessing.

- Passwords are argon2id (argon2-cffi): memory-hard, so a stolen configuration file does
  not give up its passwords to a GPU in an afternoon, and its PHC string carries its
  parameters, so a hash made stronger later verifies beside older ones. Verifying costs
  tens of milliseconds of CPU: it runs in a thread, never on the event loop that serves
  the other users.
- A session is a random id (256 bits from `secrets`) known only to this process: the
  cookie carries nothing to forge, and a restart logs everyone out (the console holds no
  state worth keeping). It ends `lifetime` after login, or at logout.
- Failed logins are counted per user name at a client address (`LoginBrake`), the
  attempts at one key taking turns; past the limit each try waits longer than the last.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from gateway.backoff import Backoff
from gateway.settings.console import ConsoleUser

# Sessions held at once PER USER; past it that user's oldest goes. A loop of logins of one
# account cannot fill memory, nor log out anybody else: the users are the configuration's,
# so the sessions held are at most users x MAX_SESSIONS.
MAX_SESSIONS = 50
# Addresses and names whose failures are remembered at once, for the same reason.
MAX_TRACKED = 10000

_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the user name is unknown, so that a wrong name takes as long
    to refuse as a wrong password and names cannot be told apart by timing."""
    return _HASHER.hash(secrets.token_urlsafe(16))


Clock = Callable[[], float]


def hash_password(password: str) -> str:
    """The argon2id PHC string of `password` (what the `console:` users hold)."""
    return _HASHER.hash(password)


def _matches(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def check_password(user: ConsoleUser | None, password: str) -> bool:
    """Whether `password` is `user`'s (False for no user, after the same work)."""
    stored = user.password_hash if user is not None else _dummy_hash()
    matched = await asyncio.to_thread(_matches, stored, password)
    return matched and user is not None


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in user: the CSRF token of the forms shown to them, and when it ends."""

    id: str
    user: ConsoleUser
    csrf: str
    expires: float


class Sessions:
    """The sessions of this process, by id."""

    def __init__(self, lifetime: float, clock: Clock = time.time) -> None:
        self._lifetime = lifetime
        self._clock = clock
        self._held: dict[str, Session] = {}

    def start(self, user: ConsoleUser) -> Session:
        """A new session for `user` (a login)."""
        self._forget_expired()
        mine = [sid for sid, s in self._held.items() if s.user.name == user.name]
        for oldest in mine[: max(0, len(mine) - MAX_SESSIONS + 1)]:
            del self._held[oldest]  # dicts keep the order of logins
        session = Session(
            id=secrets.token_urlsafe(32),
            user=user,
            csrf=secrets.token_urlsafe(32),
            expires=self._clock() + self._lifetime,
        )
        self._held[session.id] = session
        return session

    def find(self, session_id: str | None, users: Mapping[str, ConsoleUser]) -> Session | None:
        """The live session `session_id` names, or None (unknown, forged, expired, or its
        user no longer in the configuration)."""
        if not session_id:
            return None
        session = self._held.get(session_id)
        if session is None:
            return None
        if session.expires <= self._clock() or users.get(session.user.name) != session.user:
            del self._held[session_id]
            return None
        return session

    def end(self, session_id: str) -> None:
        """Log out: the id is worth nothing from now on."""
        self._held.pop(session_id, None)

    def __len__(self) -> int:
        return len(self._held)

    def _forget_expired(self) -> None:
        now = self._clock()
        for gone in [sid for sid, s in self._held.items() if s.expires <= now]:
            del self._held[gone]


def brake_key(name: str, address: str | None) -> str:
    """What the brake counts a login attempt against: the name typed at the client's
    address. Not the address alone: behind a reverse proxy every user has the proxy's, and
    one person's mistakes (or anyone's guesses) would hold everyone. Not the name alone:
    anyone could then hold a supervisor out from anywhere by guessing at their name."""
    return f"{name.strip().casefold()}\x00{address or ''}"


class LoginBrake:
    """Login attempts per key (`brake_key`) within a sliding window of `window` seconds.

    The first `attempts` failures cost nothing; past them each further try must wait
    after the last failure, FIRST_WAIT at first and twice as long after every failure
    more, up to `window`: a person who mistyped waits half a minute, a guesser soon waits
    the whole window between guesses, and nobody is locked out for good.

    The attempts at one key take turns (`turn`): each is braked or checked only once the
    one before has been counted.
    """

    FIRST_WAIT = 30.0

    def __init__(self, attempts: int, window: float, clock: Clock = time.monotonic) -> None:
        self._attempts = attempts
        self._window = window
        # Not jittered: a wait is shown to the person at the login form.
        self._waits = Backoff(first=self.FIRST_WAIT, cap=window, jitter=False)
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        # A key's lock and how many attempts hold or wait for it.
        self._turns: dict[str, tuple[asyncio.Lock, int]] = {}

    def wait(self, key: str) -> float:
        """Seconds before `key` may try again (0: now)."""
        now = self._clock()
        failures = self._recent(key, now)
        past = len(failures) - self._attempts
        if past < 0:
            return 0.0
        delay = self._waits.step(past)
        return max(0.0, failures[-1] + delay - now)

    @contextlib.asynccontextmanager
    async def turn(self, key: str) -> AsyncIterator[None]:
        """Hold `key`'s turn: the attempts at one key are checked one after the other,
        each seeing the outcome of the one before, so guesses sent at once cannot all
        pass the brake while the first are still being checked (and right passwords sent
        at once, a double click, all get in: nothing counts them ahead of their check)."""
        lock, users = self._turns.get(key, (asyncio.Lock(), 0))
        self._turns[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._turns[key]
            if users == 1:
                del self._turns[key]  # nobody else holds or waits for it
            else:
                self._turns[key] = (lock, users - 1)

    def failed(self, key: str) -> None:
        """Count a failed login against `key`."""
        now = self._clock()
        failures = self._recent(key, now)
        # Kept in the order of their last failure. When too many keys are tracked, the
        # one that failed longest ago among those not braked is forgotten: failures at
        # thousands of other names must not wipe the count of a name being guessed.
        self._failures.pop(key)
        if len(self._failures) >= MAX_TRACKED:
            del self._failures[self._forgettable()]
        self._failures[key] = failures
        failures.append(now)

    def _forgettable(self) -> str:
        """The key to forget for room: the oldest not braked, else the oldest."""
        oldest = next(iter(self._failures))
        return next((k for k, f in self._failures.items() if len(f) < self._attempts), oldest)

    def succeeded(self, key: str) -> None:
        """A login that worked clears its key's count."""
        self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self._window:
            failures.popleft()
        return failures
