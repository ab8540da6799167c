"""A real PostgreSQL server for the tests: Debian's `postgresql`, started by the fixtures.

One server per test session (`initdb` into a temporary directory, a free port on
127.0.0.1, its unix socket in the same directory, `fsync=off`: nothing survives the run
anyway), and a fresh database per test, copied from one the store has already migrated
(`CREATE DATABASE ... TEMPLATE`, ~45 ms, much faster than running the schema every time;
`FILE_COPY` is quicker than the default WAL_LOG for a template this small).

PostgreSQL refuses to run as root, and the tests run as root on CI: the server then runs
as `nobody` (`setpriv`), the directory handed to it. Run as anyone else, it runs as the
test's own user.

Two roles: `gateway`, trusted over TCP from 127.0.0.1 (what the tests' stores use), and
`guarded`, which must give its password (`GUARDED_PASSWORD`), for the refusals of a wrong
one. Missing binaries fail the test with how to install them, never skip it.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from gateway.store.store import Store
from tests.support.broker import free_port

INSTALL_HINT = (
    "PostgreSQL's server binaries (initdb, pg_ctl, postgres) are needed by the PostgreSQL "
    "store's tests and were not found: apt-get install postgresql"
)
ROLE = "gateway"
GUARDED = "guarded"
GUARDED_PASSWORD = "s3cret-for-tests"
TEMPLATE = "migrated"
START_TIMEOUT = 30.0  # seconds for the server to accept connections
STOP_TIMEOUT = 15.0  # seconds for `pg_ctl stop` before the server is killed


def find_binaries() -> Path | None:
    """The directory of Debian's newest PostgreSQL server binaries, else one on PATH."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit()
        else 0,
    )  # fmt: skip
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


class PostgresServer:
    """A PostgreSQL server in a directory of its own, for one test session."""

    def __init__(self, binaries: Path, *, durable: bool = False) -> None:
        self.binaries = binaries
        # A benchmark's server keeps fsync, synchronous commit and full pages on, as a
        # production one does; the tests' has them off (nothing outlives the run).
        self.durable = durable
        self.dir = Path(tempfile.mkdtemp(prefix="motcua-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.host = "127.0.0.1"
        self._names = itertools.count(1)
        self._as: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "nobody", "nogroup")
            self._as = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]

    def url(self, database: str, role: str = ROLE) -> str:
        """The url of `database` on this server, as `role`."""
        return f"postgresql://{role}@{self.host}:{self.port}/{database}"

    def start(self) -> None:
        """initdb, start, and wait (bounded) until it accepts connections."""
        self._run("initdb", "-D", str(self.data), "-U", ROLE, "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")  # fmt: skip
        (self.data / "pg_hba.conf").write_text(
            f"local all all trust\n"
            f"host all {GUARDED} 127.0.0.1/32 scram-sha-256\n"
            f"host all all 127.0.0.1/32 trust\n"
        )
        options = (f"-c listen_addresses={self.host} -c port={self.port} "
                   f"-c unix_socket_directories={self.dir} -c max_connections=200")  # fmt: skip
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "server.log"),
                  "-o", options, "-w", "-t", str(int(START_TIMEOUT)), "start")  # fmt: skip
        with self.admin() as db:
            db.execute(f"CREATE ROLE {GUARDED} LOGIN SUPERUSER PASSWORD '{GUARDED_PASSWORD}'")
            db.execute(f"CREATE DATABASE {TEMPLATE}")
        asyncio.run(_migrate(self.url(TEMPLATE)))

    def admin(self) -> psycopg.Connection:
        """A connection to the server's `postgres` database, for setting databases up."""
        return psycopg.connect(self.url("postgres"), autocommit=True, connect_timeout=10)

    def new_database(self) -> str:
        """The url of a new database holding the store's schema, and nothing else."""
        name = f"store_{os.getpid()}_{next(self._names)}"
        with self.admin() as db:
            db.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY")
        return self.url(name)

    def drop(self, url: str) -> None:
        """Drop the database of `url`, its connections closed by force."""
        name = url.rsplit("/", 1)[1]
        with self.admin() as db:
            db.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def restart(self) -> None:
        """Restart the server (fast shutdown, bounded): every connection to it ends, as in
        an upgrade or a failover."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "server.log"),
                  "-m", "fast", "-w", "-t", str(int(START_TIMEOUT)), "restart")  # fmt: skip

    def terminate_backends(self, url: str) -> int:
        """End every connection to the database of `url` (`pg_terminate_backend`, what an
        operator or a failover does to them): how many there were."""
        name = url.rsplit("/", 1)[1]
        with self.admin() as db:
            return len(
                db.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    (name,),
                ).fetchall()
            )

    def stop(self) -> None:
        """Stop the server (fast shutdown, bounded) and remove its directory."""
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w",
                      "-t", str(int(STOP_TIMEOUT)), "stop")  # fmt: skip
        except (subprocess.SubprocessError, OSError):
            self._kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _kill(self) -> None:
        pid_file = self.data / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, IndexError):
            os.kill(int(pid_file.read_text().split()[0]), 9)

    def _run(self, tool: str, *args: str) -> None:
        command = [*self._as, str(self.binaries / tool), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=START_TIMEOUT * 2,
                              cwd=self.dir, check=False)  # fmt: skip
        if done.returncode != 0:
            log = self.dir / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr.strip()}\n{tail}")


async def _migrate(url: str) -> None:
    async with Store.open(url):
        pass


def started_server(*, durable: bool = False) -> PostgresServer:
    """A started server (`durable`: see PostgresServer); RuntimeError with the install hint
    if there are no binaries."""
    binaries = find_binaries()
    if binaries is None:
        raise RuntimeError(INSTALL_HINT)
    server = PostgresServer(binaries, durable=durable)
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    return server
