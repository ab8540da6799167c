"""One daemon per SQLite store: a lock file beside the database, held for the daemon's life.

Two daemons on one store would both take every queued message and send it twice, and
fight over one MQTT client id. The lock is `flock` on `<database>.lock`, so the kernel
releases it when its holder dies however it dies (SIGKILL, OOM): no stale lock to clean
up by hand. The holder writes its pid, host and start time in the file, so the second
instance can say who holds the store. The file is never deleted (deleting a lock file
another process is opening would give two holders of two different files).

The store is the file, not the name it is given: the lock file is named from the
database's real path (symlinks resolved), and the database file itself is `flock`ed as
well, so a second name for the same file (a symlink, a bind mount, a hard link, which
no path resolution can see) finds it held. `flock` and the POSIX record locks SQLite
takes on the same file do not interact on Linux local file systems (SQLite in WAL mode
is unsupported on network file systems anyway). The descriptor holding it is closed
only after the store is closed: closing a descriptor of the database drops the POSIX
locks SQLite holds on it in this process.

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

from gateway.store.schema import FILE_MODE, StoreError, StoreUnusable, create_private
from gateway.store.url import is_url

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
    """The lock file of the store at `database`: beside the real file, whatever the name."""
    return Path(f"{os.path.realpath(database)}.lock")


@contextlib.contextmanager
def hold(database: str | Path) -> Iterator[Path | None]:
    """Hold the SQLite store at `database` until the block ends; StoreHeld if another
    does. A PostgreSQL store (a url) is not held: several daemons may share one."""
    if str(database) == ":memory:" or is_url(database):
        yield None
        return
    path = lock_path(database)
    with contextlib.ExitStack() as held:
        fd = held.enter_context(_opened(database, path, os.O_RDWR | os.O_CREAT, "lock file"))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreHeld(database, _holder(fd)) from None
        # The file itself, for a name no path resolution leads to (a hard link).
        real = Path(os.path.realpath(database))
        create_private(real)
        inode = held.enter_context(_opened(database, real, os.O_RDONLY, "database"))
        try:
            fcntl.flock(inode, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreHeld(database, "through another name of this file") from None
        os.ftruncate(fd, 0)
        since = datetime.now(UTC).isoformat(timespec="seconds")
        os.pwrite(
            fd, f"pid {os.getpid()} on host {socket.gethostname()}, since {since}\n".encode(), 0
        )
        yield path
    # Both descriptors are closed here, which releases the locks.


@contextlib.contextmanager
def _opened(database: str | Path, path: Path, flags: int, what: str) -> Iterator[int]:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, flags | os.O_CLOEXEC, FILE_MODE)
    except OSError as exc:
        raise StoreUnusable(database, f"{what} {path} cannot be opened ({exc.strerror})") from None
    try:
        yield fd
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    """What the holder wrote about itself; it may not have written it yet."""
    try:
        text = os.pread(fd, HOLDER_MAX, 0).decode("utf-8", errors="replace").strip()
    except OSError:
        text = ""
    return text or "holder not yet written"
