"""A PostgreSQL store's url: telling it from an SQLite file's path, and showing it without
its password (in refusals, logs and check-config)."""

from __future__ import annotations

import urllib.parse

from gateway.settings.store import POSTGRESQL

__all__ = ["is_url", "shown"]


def is_url(location: object) -> bool:
    """Whether a store's location names a PostgreSQL server (else an SQLite file)."""
    return isinstance(location, str) and location.startswith(POSTGRESQL)


def shown(url: str) -> str:
    """`url` as it may be shown and logged: without a password, whether it is given as
    `user:pw@` or in the query (`?password=`, which libpq reads as well)."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    kept = [(key, value) for key, value in query if key.lower() != "password"]
    if parts.password is None and len(kept) == len(query):
        return url
    host = parts.hostname or ""
    user = f"{parts.username}@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    netloc = f"{user}{host}{port}" if parts.password is not None else parts.netloc
    return urllib.parse.urlunsplit(
        (parts.scheme, netloc, parts.path, urllib.parse.urlencode(kept), parts.fragment)
    )
