"""A real mosquitto for the tests: own config, own port, own persistence directory.

Persistence is on, so `stop()` then `start()` is a broker restart that keeps persistent
sessions and the QoS 1 messages queued for them (mosquitto writes its database when it
stops). `kill()` is a crash: whatever was not yet written is gone.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INSTALL_HINT = "mosquitto is not installed: apt-get install mosquitto"

_SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])


class BrokerError(RuntimeError):
    """The broker did not start, or stopped on its own."""


def find_mosquitto() -> str | None:
    return shutil.which("mosquitto", path=_SEARCH_PATH)


def find_dynsec_plugin() -> str | None:
    """Debian's mosquitto package ships the plugin in the multiarch library directory."""
    found = sorted(glob.glob("/usr/lib/*/mosquitto_dynamic_security.so"))
    found += sorted(glob.glob("/usr/lib/mosquitto_dynamic_security.so"))
    return found[0] if found else None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass(frozen=True, slots=True)
class Certificates:
    """A CA, a server certificate for 127.0.0.1 signed by it, and a client certificate."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def make_certificates(directory: Path) -> Certificates:
    """Fresh EC certificates made with the openssl command line, valid for two days."""
    directory.mkdir(parents=True, exist_ok=True)

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *curve, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=motcua-test-ca")  # fmt: skip
    (directory / "server.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name, ext in (("server", ["-extfile", "server.ext"]), ("client", [])):
        openssl("req", *curve, "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", f"/CN={name}")  # fmt: skip
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", *ext)  # fmt: skip
    return Certificates(
        ca=directory / "ca.pem",
        server_cert=directory / "server.pem",
        server_key=directory / "server.key",
        client_cert=directory / "client.pem",
        client_key=directory / "client.key",
    )


class Broker:
    """One mosquitto process on 127.0.0.1; reusable across stop()/start().

    With `certificates`, a second listener (`tls_port`) speaks TLS, and asks for a client
    certificate when `require_certificate`. With `users` (name to password, written with
    `mosquitto_passwd -b`) and `acl` (mosquitto's acl_file text; topic lines before any
    `user` line apply to anonymous clients), access is checked; `set_acl()` then
    `reload()` (SIGHUP) changes it while clients stay connected. `dynsec` is a
    dynamic-security plugin configuration (JSON), which, unlike acl_file, also refuses
    subscriptions; `set_dynsec()` changes it for the next start.
    """

    def __init__(
        self,
        executable: str,
        *,
        start_timeout: float = 10.0,
        certificates: Certificates | None = None,
        require_certificate: bool = False,
        users: dict[str, str] | None = None,
        acl: str | None = None,
        dynsec: dict[str, Any] | None = None,
    ) -> None:
        self.executable = executable
        self.host = "127.0.0.1"
        self.port = free_port(self.host)
        self.tls_port = free_port(self.host) if certificates is not None else None
        self.start_timeout = start_timeout
        self._dir = Path(tempfile.mkdtemp(prefix="mosquitto-"))
        self.config_path = self._dir / "mosquitto.conf"
        self.log_path = self._dir / "mosquitto.log"
        self.acl_path = self._dir / "acl"
        self._process: subprocess.Popen[bytes] | None = None
        self._certificates = certificates
        self._require_certificate = require_certificate
        self._users = users
        self._acl = acl
        self._dynsec = dynsec
        self._write_config()

    def set_acl(self, acl: str) -> None:
        """Replace the ACL file; the broker reads it on `reload()` or its next start."""
        self.acl_path.write_text(acl)

    def set_dynsec(self, dynsec: dict[str, Any]) -> None:
        """Replace the dynamic-security configuration; the broker reads it when it starts."""
        (self._dir / "dynsec.json").write_text(json.dumps(dynsec))

    def reload(self) -> None:
        """SIGHUP: mosquitto reads its configuration, ACL and password files again."""
        if self._process is None:
            raise BrokerError("broker not running")
        self._process.send_signal(signal.SIGHUP)

    def _access(self) -> str:
        lines = []
        if self._users is not None:
            passwords = self._dir / "passwd"
            passwords.write_text("")
            for name, password in self._users.items():
                subprocess.run(
                    ["mosquitto_passwd", "-b", str(passwords), name, password],
                    check=True,
                    capture_output=True,
                )
            lines.append(f"password_file {passwords}\n")
        if self._acl is not None:
            self.set_acl(self._acl)
            lines.append(f"acl_file {self.acl_path}\n")
        if self._dynsec is not None:
            plugin = find_dynsec_plugin()
            if plugin is None:
                raise BrokerError("mosquitto's dynamic-security plugin is not installed")
            self.set_dynsec(self._dynsec)
            lines.append(f"plugin {plugin}\nplugin_opt_config_file {self._dir}/dynsec.json\n")
        certs = self._certificates
        if certs is not None:
            lines.append(
                f"listener {self.tls_port} {self.host}\n"
                f"cafile {certs.ca}\ncertfile {certs.server_cert}\nkeyfile {certs.server_key}\n"
                f"require_certificate {str(self._require_certificate).lower()}\n"
            )
        return "".join(lines)

    def _write_config(self) -> None:
        # Run as whoever runs the tests: as root, mosquitto would otherwise switch to the
        # `mosquitto` user, which cannot write the persistence directory.
        user = pwd.getpwuid(os.getuid()).pw_name
        self.config_path.write_text(
            # One set of users and ACLs for both listeners.
            "per_listener_settings false\n"
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
            "connection_messages true\n" + self._access()
        )

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The running mosquitto's process id, for a benchmark reading its CPU in /proc."""
        return self._process.pid if self.running and self._process is not None else None

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
