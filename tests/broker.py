"""A real mosquitto for the tests: own config, own port, own persistence directory.

Persistence is on, so `stop()` then `start()` is a broker restart that keeps persistent
sessions and the QoS 1 messages queued for them (mosquitto writes its database when it
stops). `kill()` is a crash: whatever was not yet written is gone.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

INSTALL_HINT = "mosquitto is not installed: apt-get install mosquitto"

_SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])


class BrokerError(RuntimeError):
    """The broker did not start, or stopped on its own."""


def find_mosquitto() -> str | None:
    return shutil.which("mosquitto", path=_SEARCH_PATH)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class Broker:
    """One mosquitto process on 127.0.0.1; reusable across stop()/start()."""

    def __init__(self, executable: str, *, start_timeout: float = 10.0) -> None:
        self.executable = executable
        self.host = "127.0.0.1"
        self.port = free_port(self.host)
        self.start_timeout = start_timeout
        self._dir = Path(tempfile.mkdtemp(prefix="mosquitto-"))
        self.config_path = self._dir / "mosquitto.conf"
        self.log_path = self._dir / "mosquitto.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._write_config()

    def _write_config(self) -> None:
        # Run as whoever runs the tests: as root, mosquitto would otherwise switch to the
        # `mosquitto` user, which cannot write the persistence directory.
        user = pwd.getpwuid(os.getuid()).pw_name
        self.config_path.write_text(
            f"listener {self.port} {self.host}\n"
            "allow_anonymous true\n"
            f"user {user}\n"
            # As the README asks of production brokers: mosquitto's default (1000) drops
            # QoS 1 messages queued for a busy subscriber, silently.
            "max_queued_messages 1000000\n"
            "persistence true\n"
            f"persistence_location {self._dir}/\n"
            "log_dest stderr\n"
            "log_type error\n"
            "log_type warning\n"
            "log_type notice\n"
            "log_type information\n"
            "connection_messages true\n"
        )

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start mosquitto and return once its port accepts connections."""
        if self.running:
            raise BrokerError("broker already running")
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [self.executable, "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self._process.poll() is not None:
                raise BrokerError(
                    f"mosquitto exited with {self._process.returncode}:\n{self.log_tail()}"
                )
            if self._accepts():
                return
            if time.monotonic() > deadline:
                self.kill()
                raise BrokerError(f"mosquitto did not listen on {self.port}:\n{self.log_tail()}")
            time.sleep(0.02)

    def _accepts(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM and wait: a clean shutdown that saves the persistence database."""
        self._end(signal.SIGTERM, timeout)

    def kill(self) -> None:
        """SIGKILL: a crash."""
        self._end(signal.SIGKILL, 10.0)

    def _end(self, sig: signal.Signals, timeout: float) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def close(self) -> None:
        """Stop the broker and remove its directory."""
        self.kill()
        shutil.rmtree(self._dir, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])
