"""The store's file: its schema, its migrations, and the checks before it is used.

A store that cannot be used is refused at start-up with one message naming the file
(`StoreUnusable`), never with a traceback and a restart loop: not a database, damaged
(`PRAGMA quick_check`, about 0.5 s for a 400 MB store with a million dossiers), or
written by a newer version whose schema this one does not know. A new database file is
created readable by its owner only; SQLite gives its -wal and -shm files the database
file's permissions, so personal data never lands in a world-readable file, with or
without systemd's UMask. A store the daemon did not create (a `.backup` restore, the
previous release's, made under umask 022) is made owner-only when the daemon opens it.

Readers beside the daemon (`report`) open the store read-only (`read_only`): they never
migrate it (a migration under a running daemon of the previous release made its
receipts match nothing), never change a mode, never create a file.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import urllib.parse
from pathlib import Path

import structlog

from gateway.store.dialect import SQLITE, Dialect
from gateway.store.migrations import MIGRATIONS

log = structlog.get_logger("gateway.store.store")


class StoreError(Exception):
    """The store cannot be used by this process; the message says why and names the file."""


class StoreUnusable(StoreError):
    """Not a database, damaged, unreadable, or of a newer schema."""

    def __init__(self, path: str | Path, why: str) -> None:
        super().__init__(f"store {path}: {why}")
        self.path = str(path)


class StoreUnavailable(StoreError):
    """The store cannot read or write at all just now (a full disk, a read-only file, a
    locked database, a PostgreSQL server gone): what failed may succeed when tried again
    whole. Both engines raise it, with the driver's error as its cause."""

    def __init__(self, path: str | Path, why: str) -> None:
        super().__init__(f"store {path} is unavailable: {why}")
        self.path = str(path)


class SqliteConnection(sqlite3.Connection):
    """An SQLite connection that says its dialect (`db.dialect`), as PostgreSQL's does."""

    dialect: Dialect = SQLITE


SCHEMA_VERSION = len(MIGRATIONS)

# Owner only: phone numbers and texts are personal data.
FILE_MODE = 0o600


def connect(path: str) -> sqlite3.Connection:
    """Open the store at `path` (":memory:" for none), checked and migrated.

    Raises StoreUnusable for anything that makes it unusable, before changing anything
    in it: a damaged file is not migrated further into damage.
    """
    if path != ":memory:":
        create_private(Path(path))
    try:
        db = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, factory=SqliteConnection
        )
    except sqlite3.Error as exc:
        raise StoreUnusable(path, f"cannot be opened ({exc})") from None
    try:
        _check(db, path)
        if path != ":memory:":
            # Once it is known to be a store we use (a refused file is left as it is);
            # -wal and -shm the check opened took the database's mode, and are made
            # private with it.
            make_private(Path(path))
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA busy_timeout=5000")
        (version,) = db.execute("PRAGMA user_version").fetchone()
        for number, script in enumerate(MIGRATIONS, start=1):
            if number > version:
                db.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")
    except sqlite3.Error as exc:
        db.close()
        raise StoreUnusable(path, _describe(exc)) from None
    except BaseException:
        db.close()
        raise
    return db


class StoreOutdated(StoreUnusable):
    """A store of an older schema whose contents a reader of this version cannot read."""

    def __init__(self, path: str | Path, version: int, cause: Exception) -> None:
        super().__init__(
            path,
            f"schema {version} is older than this version's {SCHEMA_VERSION} and cannot "
            f"be read by it ({' '.join(str(cause).split())}); the daemon upgrades it when "
            "it starts",
        )
        self.version = version


def read_only(path: str) -> tuple[sqlite3.Connection, int]:
    """Open the store at `path` for reading only, checked, never migrated: the
    connection and the store's schema version (older ones are read as they are).

    A store with a -wal or -shm file may have a daemon writing it: `mode=ro`, which uses
    them as they are. Without either, nobody has it open and the database file holds
    everything committed: `immutable`, because `mode=ro` would create both files. (A
    daemon starting during the read could checkpoint under it; a report takes seconds.)
    """
    real = os.path.realpath(path)
    if not os.path.isfile(real):
        raise StoreUnusable(path, "no such file")
    live = any(os.path.exists(f"{real}{suffix}") for suffix in ("-wal", "-shm"))
    uri = f"file:{urllib.parse.quote(real)}?{'mode=ro' if live else 'immutable=1'}"
    try:
        db = sqlite3.connect(
            uri, uri=True, isolation_level=None, check_same_thread=False, factory=SqliteConnection
        )
    except sqlite3.Error as exc:
        raise StoreUnusable(path, f"cannot be opened ({exc})") from None
    try:
        # Not the whole file's quick_check: 9 s for a province's year (1.8 GB), on every
        # report. A reader that meets a damaged page gets SQLite's error; the daemon's
        # next start refuses the store as damaged.
        _check(db, path, whole=False)
        db.execute("PRAGMA busy_timeout=5000")
        (version,) = db.execute("PRAGMA user_version").fetchone()
    except sqlite3.Error as exc:
        db.close()
        raise StoreUnusable(path, _describe(exc)) from None
    except BaseException:
        db.close()
        raise
    return db, version


def make_private(path: Path) -> None:
    """Take group and other permissions off the database, its -wal and its -shm, if
    they are ours: SQLite gives new -wal and -shm files the database file's mode."""
    real = os.path.realpath(path)
    tightened: dict[str, str] = {}
    for name in (real, f"{real}-wal", f"{real}-shm"):
        try:
            info = os.stat(name)
            if info.st_uid != os.geteuid() or not stat.S_IMODE(info.st_mode) & 0o077:
                continue
            os.chmod(name, FILE_MODE)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise StoreUnusable(path, f"{name} cannot be made private ({exc.strerror})") from None
        tightened[Path(name).name] = oct(stat.S_IMODE(info.st_mode))
    if tightened:
        log.warning("store_files_made_private", path=str(path), files=tightened, mode="0o600")


def _check(db: sqlite3.Connection, path: str, *, whole: bool = True) -> None:
    (version,) = db.execute("PRAGMA user_version").fetchone()
    if version > SCHEMA_VERSION:
        raise StoreUnusable(
            path,
            f"written by a newer version of motcua-sms (schema {version}; this version "
            f"knows schemas up to {SCHEMA_VERSION}); run that version or a newer one",
        )
    problems = [row[0] for row in db.execute("PRAGMA quick_check(1)")] if whole else ["ok"]
    if problems != ["ok"]:
        first = " ".join(problems[0].split())  # one line: SQLite's may hold several
        raise StoreUnusable(path, f"damaged ({first}); restore it from a backup")


def _describe(exc: sqlite3.Error) -> str:
    text = " ".join(str(exc).split())
    if "not a database" in text:
        return "not a database (file is not a database)"
    if "malformed" in text:
        return f"damaged ({text}); restore it from a backup"
    return f"cannot be used ({text})"


def create_private(path: Path) -> None:
    """Create the database file (and its directory) for the owner alone, if missing."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    except FileExistsError:
        return
    except OSError as exc:
        raise StoreUnusable(path, f"cannot be created ({exc.strerror})") from None
    os.close(fd)
