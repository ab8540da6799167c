"""`motcua-sms console-password`: the hash to write under a console user's `password_hash`.

The password is read from the terminal without echo (asked twice, so a typo is not locked
into the file), or as one line from standard input when that is not a terminal (a script,
a password manager's pipe). Never from the command line: arguments are visible to every
user in `ps` and kept in shell histories.
"""

from __future__ import annotations

import getpass
import sys
from typing import TextIO

from gateway.console.auth import hash_password

MIN_LENGTH = 10
MAX_LENGTH = 1024


class PasswordRefused(Exception):
    """A password not taken, with the reason to tell the operator."""


def _read(stdin: TextIO) -> str:
    if stdin.isatty():
        first = getpass.getpass("Mật khẩu mới: ")
        again = getpass.getpass("Nhập lại mật khẩu: ")
        if first != again:
            raise PasswordRefused("the two passwords differ")
        return first
    line = stdin.readline()
    return line[:-1] if line.endswith("\n") else line


def checked(password: str) -> str:
    """`password`, if it may be one; PasswordRefused otherwise."""
    password = password.removesuffix("\r")
    if len(password) < MIN_LENGTH:
        raise PasswordRefused(f"a password has at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordRefused(f"a password has at most {MAX_LENGTH} characters")
    if password != password.strip():
        raise PasswordRefused("a password does not begin or end with a space")
    return password


def main(stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Print the hash; 2 (and a line on stderr) for a password refused or no input."""
    stdin = stdin if stdin is not None else sys.stdin
    stdout = stdout if stdout is not None else sys.stdout
    if stdin is None:
        print("motcua-sms: console-password: standard input is closed", file=sys.stderr)
        return 2
    try:
        password = checked(_read(stdin))
    except PasswordRefused as exc:
        print(f"motcua-sms: console-password: {exc}", file=sys.stderr)
        return 2
    except (EOFError, KeyboardInterrupt):
        print("motcua-sms: console-password: no password given", file=sys.stderr)
        return 2
    stdout.write(hash_password(password) + "\n")
    return 0
