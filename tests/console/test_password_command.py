"""`motcua-sms console-password`: a hash from a password read from stdin, never argv."""

from __future__ import annotations

import subprocess
import sys

from argon2 import PasswordHasher

from gateway.settings.config import parse_config

COMMAND = [sys.executable, "-m", "gateway.cli", "console-password"]


def run(stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        COMMAND, input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


def test_a_password_on_stdin_gives_a_hash_that_verifies_it_and_the_configuration_takes():
    done = run("mật khẩu của chị An\n")

    assert done.returncode == 0, done.stderr
    stored = done.stdout.strip()
    assert PasswordHasher().verify(stored, "mật khẩu của chị An")
    assert "chị An" not in done.stdout + done.stderr
    text = (
        "agencies:\n  SCT:\n    name: Sở Công Thương\nconsole:\n  users:\n    an:\n"
        f'      role: supervisor\n      password_hash: "{stored}"\n'
    )
    assert parse_config(text, env={}).console.users["an"].password_hash == stored


def test_a_short_password_is_refused_with_the_reason_and_no_hash():
    done = run("ngan\n")

    assert done.returncode == 2
    assert done.stdout == ""
    assert "at least 10 characters" in done.stderr


def test_no_password_at_all_is_refused():
    done = run("")

    assert done.returncode == 2 and done.stdout == ""


def test_the_command_takes_no_password_argument():
    done = subprocess.run(
        [*COMMAND, "hunter2hunter2"], capture_output=True, text=True, timeout=60, check=False
    )

    assert done.returncode == 2
    assert "unrecognized arguments" in done.stderr
