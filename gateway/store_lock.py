"""One daemon per store: a lock file beside the database, held for the daemon's life.

Two daemons on one store would both take every queued message and send it twice, and
fight over one MQTT client id. The lock is `flock` on `<database>.lock`, so the kernel
releases it when its holder dies however it dies (SIGKILL, OOM): no stale lock to clean
up by hand. The holder writes its pid, host and start time in the file, so the second
instance can say who holds the store. The file is never deleted (deleting a lock file
another process is opening would give two holders of two different files).

Only the daemon holds it; `report` and the console read the store beside it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from gateway.schema import FILE_MODE, StoreError, StoreUnusable

# How much of a lock file's content is read back to name its holder.
HOLDER_MAX = 200


class StoreHeld(StoreError):
    """The store is held by another running instance."""

    def __init__(self, path: str | Path, holder: str) -> None:
        super().__init__(
            f"store {path} is held by another running instance ({holder}); "
            "two daemons on one store would send everything twice"
        )
        self.path = str(path)
        self.holder = holder


def lock_path(database: str | Path) -> Path:
    return Path(f"{database}.lock")


@contextlib.contextmanager
def hold(database: str | Path) -> Iterator[Path | None]:
    """Hold the store at `database` until the block ends; StoreHeld if another does."""
    if str(database) == ":memory:":
        yield None
        return
    path = lock_path(database)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    except OSError as exc:
        raise StoreUnusable(
            database, f"lock file {path} cannot be opened ({exc.strerror})"
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreHeld(database, _holder(fd)) from None
        os.ftruncate(fd, 0)
        since = datetime.now(UTC).isoformat(timespec="seconds")
        os.pwrite(
            fd, f"pid {os.getpid()} on host {socket.gethostname()}, since {since}\n".encode(), 0
        )
        yield path
    finally:
        os.close(fd)  # releases the lock


def _holder(fd: int) -> str:
    """What the holder wrote about itself; it may not have written it yet."""
    try:
        text = os.pread(fd, HOLDER_MAX, 0).decode("utf-8", errors="replace").strip()
    except OSError:
        text = ""
    return text or "holder not yet written"
