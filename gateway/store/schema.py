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

from gateway.store import figures_schema

log = structlog.get_logger("gateway.store.store")


class StoreError(Exception):
    """The store cannot be used by this process; the message says why and names the file."""


class StoreUnusable(StoreError):
    """Not a database, damaged, unreadable, or of a newer schema."""

    def __init__(self, path: str | Path, why: str) -> None:
        super().__init__(f"store {path}: {why}")
        self.path = str(path)


MIGRATIONS: tuple[str, ...] = (
    # 1: the mirror, the messages, their parts and the status outbox.
    """
    CREATE TABLE dossiers (
        receipt_key TEXT PRIMARY KEY,
        receipt_no TEXT NOT NULL,
        agency TEXT NOT NULL,
        procedure TEXT NOT NULL,
        procedure_code TEXT,
        phone TEXT,
        step TEXT NOT NULL,
        status TEXT NOT NULL,
        due_date TEXT,
        same_day INTEGER NOT NULL DEFAULT 0,
        occurred_at TEXT NOT NULL,
        finished_on TEXT
    );
    CREATE INDEX dossiers_due ON dossiers (due_date);
    CREATE TABLE events (
        event_id TEXT PRIMARY KEY,
        agency TEXT NOT NULL,
        receipt_key TEXT NOT NULL,
        applied INTEGER NOT NULL,
        received_at REAL NOT NULL
    );
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        agency TEXT NOT NULL,
        ref TEXT NOT NULL,
        event_id TEXT,
        receipt_no TEXT,
        kind TEXT NOT NULL,
        procedure TEXT,
        phone TEXT,
        source TEXT NOT NULL,
        text TEXT,
        priority INTEGER NOT NULL,
        state TEXT NOT NULL,
        reason TEXT,
        segments INTEGER NOT NULL DEFAULT 0,
        concat_ref INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        not_before REAL NOT NULL,
        expires_at REAL NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        UNIQUE (agency, ref)
    );
    CREATE INDEX messages_queue ON messages (priority, not_before) WHERE state = 'queued';
    CREATE TABLE parts (
        message_id INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        smsc_id TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'submitted',
        PRIMARY KEY (message_id, seq)
    );
    CREATE TABLE part_keys (
        key TEXT NOT NULL,
        message_id INTEGER NOT NULL,
        seq INTEGER NOT NULL
    );
    CREATE INDEX part_keys_key ON part_keys (key);
    CREATE TABLE early_receipts (
        key TEXT NOT NULL,
        rid TEXT NOT NULL,
        state TEXT NOT NULL,
        error TEXT,
        at REAL NOT NULL
    );
    CREATE INDEX early_receipts_key ON early_receipts (key);
    CREATE TABLE status_out (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        agency TEXT NOT NULL,
        payload TEXT NOT NULL
    );
    CREATE TABLE apology_runs (
        run_day TEXT PRIMARY KEY,
        due_date TEXT NOT NULL,
        queued INTEGER NOT NULL,
        at REAL NOT NULL
    );
    """,
    # 2: every MO, stored before its deliver_sm_resp, with what became of it.
    """
    CREATE TABLE mo_log (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        sender TEXT NOT NULL,
        shortcode TEXT NOT NULL,
        text TEXT NOT NULL,
        keyword TEXT,
        outcome TEXT NOT NULL,
        reply_ref TEXT
    );
    CREATE INDEX mo_log_at ON mo_log (at);
    """,
    # 3: a finished dossier is judged by the day it first finished, whatever the finish
    # (returned, rejected, withdrawn as well as result_ready). Rows finished before this
    # version without a day get the day of the event that holds them: the latest, so
    # never earlier than the true day.
    """
    UPDATE dossiers SET finished_on = substr(occurred_at, 1, 10)
    WHERE finished_on IS NULL
      AND status IN ('result_ready', 'returned', 'rejected', 'withdrawn');
    """,
    # 4: receipt numbers are unique within one agency only, so the mirror holds each
    # dossier under (receipt number, agency); the order serves lookups by number alone
    # (MCKH) and by both (intake).
    """
    CREATE TABLE dossiers_v4 (
        receipt_key TEXT NOT NULL,
        receipt_no TEXT NOT NULL,
        agency TEXT NOT NULL,
        procedure TEXT NOT NULL,
        procedure_code TEXT,
        phone TEXT,
        step TEXT NOT NULL,
        status TEXT NOT NULL,
        due_date TEXT,
        same_day INTEGER NOT NULL DEFAULT 0,
        occurred_at TEXT NOT NULL,
        finished_on TEXT,
        PRIMARY KEY (receipt_key, agency)
    );
    INSERT INTO dossiers_v4 SELECT * FROM dossiers;
    DROP TABLE dossiers;
    ALTER TABLE dossiers_v4 RENAME TO dossiers;
    CREATE INDEX dossiers_due ON dossiers (due_date);
    """,
    # 5: the receipt sweep finds messages still waiting for a receipt, and receipts
    # that matched nothing for minutes, by index.
    """
    CREATE INDEX messages_submitted ON messages (updated_at) WHERE state = 'submitted';
    CREATE INDEX early_receipts_at ON early_receipts (at);
    """,
    # 6: an event id identifies an event within its agency, as a job id does: two
    # agencies' software numbering events alike must not make one's events repeats of
    # the other's.
    """
    CREATE TABLE events_v6 (
        event_id TEXT NOT NULL,
        agency TEXT NOT NULL,
        receipt_key TEXT NOT NULL,
        applied INTEGER NOT NULL,
        received_at REAL NOT NULL,
        PRIMARY KEY (agency, event_id)
    );
    INSERT INTO events_v6 SELECT * FROM events;
    DROP TABLE events;
    ALTER TABLE events_v6 RENAME TO events;
    """,
    # 7: health without scanning the messages: messages by state kept by triggers in the
    # same transaction as every change, and the oldest waiting one found by an index.
    """
    CREATE INDEX messages_state ON messages (state, created_at);
    CREATE TABLE message_states (state TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
    INSERT INTO message_states SELECT state, COUNT(*) FROM messages GROUP BY state;
    CREATE TRIGGER message_states_insert AFTER INSERT ON messages BEGIN
        INSERT INTO message_states VALUES (NEW.state, 1)
            ON CONFLICT (state) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER message_states_update AFTER UPDATE OF state ON messages
        WHEN OLD.state IS NOT NEW.state BEGIN
        UPDATE message_states SET n = n - 1 WHERE state = OLD.state;
        INSERT INTO message_states VALUES (NEW.state, 1)
            ON CONFLICT (state) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER message_states_delete AFTER DELETE ON messages BEGIN
        UPDATE message_states SET n = n - 1 WHERE state = OLD.state;
    END;
    """,
    # 8: the notice a dossier still owes for its current status, because it was refused for
    # want of a usable phone: a later event of the same status with a good number sends it.
    # MO replies found by the MO that asked, for the report's lookups answered. A digest
    # of each event's and job's content, to tell a repeated id's redelivery from its reuse
    # for other content (gateway/repeats.py); personal data, cleared by the purge, which
    # finds the events still holding one by their own index.
    """
    ALTER TABLE dossiers ADD COLUMN notice_owed TEXT;
    CREATE INDEX mo_log_reply ON mo_log (reply_ref) WHERE reply_ref IS NOT NULL;
    ALTER TABLE events ADD COLUMN digest TEXT;
    CREATE INDEX events_digest ON events (received_at) WHERE digest IS NOT NULL;
    ALTER TABLE messages ADD COLUMN digest TEXT;
    """,
    # 9: every part is also keyed by its id as written (`s:` without leading zeros), so a
    # receipt prefers the part with the same id string over one whose id only reads as
    # the same number in the other base. Ids keyed only by number until now (all hex or
    # all decimal digits, within the lengths `message_id_keys` reads) get that key.
    """
    INSERT INTO part_keys (key, message_id, seq)
    SELECT 's:' || ltrim(id, '0'), message_id, seq
    FROM (SELECT lower(trim(trim(trim(smsc_id), char(0)))) AS id, message_id, seq FROM parts)
    WHERE id != ''
      AND ((length(id) <= 32 AND id NOT GLOB '*[^0-9a-f]*')
        OR (length(id) <= 40 AND id NOT GLOB '*[^0-9]*'));
    """,
    # 10: the SMSC link a message goes by (several links: gateway/settings/links.py), and
    # receipts matched per link, since ids are unique only within one SMSC: every part key
    # carries its link (`@link`). What was sent before this step went by the one `smpp:`
    # section, the link `default`.
    """
    ALTER TABLE messages ADD COLUMN link TEXT;
    UPDATE messages SET link = 'default'
        WHERE id IN (SELECT DISTINCT message_id FROM parts);
    UPDATE part_keys SET key = key || '@default';
    UPDATE early_receipts SET key = key || '@default', rid = rid || '@default';
    """,
    # 11: the reconciliation figures per agency × procedure × local day, kept by triggers in
    # the same transaction as every change of a message or a dossier, the history until now
    # counted in (gateway/store/figures_schema.py).
    figures_schema.MIGRATION,
    # 12: no query the daemon runs scans a table that grows with the traffic
    # (tests/store/test_query_plans.py): receipts arrived before their submit_sm_resp
    # found by receipt id, the daily purge finding a message's part keys by message and
    # the dossiers still holding a phone number by day, rather than reading them all.
    """
    CREATE INDEX IF NOT EXISTS early_receipts_rid ON early_receipts (rid);
    CREATE INDEX IF NOT EXISTS part_keys_message ON part_keys (message_id);
    CREATE INDEX IF NOT EXISTS dossiers_phone_kept ON dossiers (occurred_at)
        WHERE phone IS NOT NULL;
    """,
)


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
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
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

    def __init__(self, path: str | Path, version: int, cause: sqlite3.Error) -> None:
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
        db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
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
