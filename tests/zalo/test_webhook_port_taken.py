"""A Zalo webhook port another service holds is a start-up refusal (exit 3, one line naming
it), like the admin port, decided before the SMSC is bound: not exit 1, which systemd
restarts forever, each restart binding to the carrier and migrating the store again."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from tests.support.broker import free_port

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "gateway.example.yaml"


def config_file(tmp_path: Path, smsc_port: int, hook_port: int) -> Path:
    src = EXAMPLE.read_text(encoding="utf-8")
    src = src.replace("host: smsc.carrier.example", "host: 127.0.0.1")
    src = src.replace("port: 2775", f"port: {smsc_port}")
    src = src.replace("password_file: smpp-password", 'password: "x"')
    src = src.replace("path: /var/lib/motcua-sms/gateway.db", f"path: {tmp_path / 'gw.db'}")
    src = src.replace("port: 9108", f"port: {free_port()}")
    src = src.replace("  port: 1883", f"  port: {free_port()}")
    src = src.replace("  password_file: mqtt-password", '  password: "y"')
    src = src.replace("    channels: [sms]  ", "    channels: [zalo, sms]  ", 1)
    (tmp_path / "rt").write_text("rt-1\n")
    src += f"""
zalo:
  app_id: "4143000000000000001"
  oa_id: "2890000000000000002"
  secret_key: "app-secret"
  oa_secret_key: "oa-secret"
  refresh_token_file: {tmp_path / "rt"}
  templates:
    result:
      template_id: "231456"
      params:
        ma_ho_so: "{{receipt_no}}"
  webhook: {{host: 127.0.0.1, port: {hook_port}, path: /zalo/webhook, max_age: 300}}
"""
    path = tmp_path / "gateway.yaml"
    path.write_text(src, encoding="utf-8")
    return path


def test_a_taken_webhook_port_is_refused_with_exit_3_before_the_smsc_is_bound(tmp_path):
    hook_port, smsc_port = free_port(), free_port()
    path = config_file(tmp_path, smsc_port, hook_port)
    with socket.socket() as holder, socket.socket() as smsc:
        holder.bind(("127.0.0.1", hook_port))
        holder.listen()
        smsc.bind(("127.0.0.1", smsc_port))
        smsc.listen()
        smsc.settimeout(0.1)
        done = subprocess.run(
            [sys.executable, "-m", "gateway.cli", "run", "-c", str(path)],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        try:
            conn, _ = smsc.accept()
            conn.close()
            smsc_dialled = True
        except TimeoutError:
            smsc_dialled = False

    assert done.returncode == 3, done.stderr[-400:]
    assert str(hook_port) in done.stderr
    assert not smsc_dialled
