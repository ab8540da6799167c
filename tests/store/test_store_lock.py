"""One daemon per store: the lock file beside the database.

SQLite only: several daemons may share a PostgreSQL store (test_postgresql_store.py)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import pytest

from gateway.store.lock import StoreHeld, hold, lock_path
from gateway.store.schema import StoreUnusable


def test_second_holder_is_refused_naming_the_first(tmp_path):
    db = tmp_path / "gateway.db"
    with hold(db), pytest.raises(StoreHeld) as refused, hold(db):
        pass

    message = str(refused.value)
    assert message.startswith(f"store {db} is held by another running instance (pid {os.getpid()}")
    assert f"on host {socket.gethostname()}" in message


def test_a_symlink_to_a_held_store_is_the_same_store(tmp_path):
    db = tmp_path / "gateway.db"
    link = tmp_path / "current.db"
    link.symlink_to(db)
    with hold(db), pytest.raises(StoreHeld, match="pid"), hold(link):
        pass


def test_a_hard_link_to_a_held_store_is_the_same_store(tmp_path):
    """A hard link has its own name, so its own lock file: the file's own lock sees it."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    db = tmp_path / "a" / "gateway.db"
    db.touch(mode=0o600)
    other = tmp_path / "b" / "gateway.db"
    os.link(db, other)
    with hold(db), pytest.raises(StoreHeld, match="another name of this file"), hold(other):
        pass


def test_a_store_held_through_a_link_is_free_again_when_let_go(tmp_path):
    db = tmp_path / "gateway.db"
    link = tmp_path / "current.db"
    link.symlink_to(db)
    with hold(link):
        pass

    with hold(db) as path:
        assert path == lock_path(link)


def test_store_is_free_again_when_its_holder_lets_go(tmp_path):
    db = tmp_path / "gateway.db"
    with hold(db):
        pass

    with hold(db) as path:
        assert path == lock_path(db)


def test_holder_killed_by_sigkill_releases_the_store(tmp_path):
    """The kernel drops a flock with its process: no stale lock after a crash."""
    db = tmp_path / "gateway.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_AND_WAIT, str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreHeld, match=f"pid {holder.pid} "), hold(db):
            pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)

    with hold(db):
        assert f"pid {os.getpid()} " in lock_path(db).read_text()


HOLD_AND_WAIT = """
import sys, time
from gateway.store.lock import hold
with hold(sys.argv[1]):
    print("held", flush=True)
    time.sleep(60)
"""


def test_lock_file_that_cannot_be_opened_makes_the_store_unusable_naming_it(tmp_path):
    db = tmp_path / "gateway.db"
    lock_path(db).mkdir()

    refused = pytest.raises(StoreUnusable, match=f"lock file {lock_path(db)} cannot be opened")
    with refused, hold(db):
        pass
