"""A released schema step's text never changes: stores in the field were made by it, and
the step a store has is known by its number alone. The steps are generated from helpers
shared with newer steps (the figures' triggers, PostgreSQL's schema), so a change to a
helper must not reach a step already released: each step's digest is pinned here, and a
new step adds its own line."""

from __future__ import annotations

import hashlib

from gateway.store.migrations import MIGRATIONS
from gateway.store.pg_schema import STEPS

SQLITE = {
    1: "73e6c52ebf3ffd73",
    2: "daadd0f9ee0f2e52",
    3: "67ce45ef127e4c6d",
    4: "817866601575e9e1",
    5: "59323bd2d3a57115",
    6: "b25d206706368d0c",
    7: "c58477ce5667e675",
    8: "59472b289f71f04b",
    9: "65c684450adb3e26",
    10: "e5bd6ba58adac36a",
    11: "53609b3e104691f9",
    12: "4ff10f5f4baf5b35",
    13: "fa320e3ef679ce51",
    14: "f732b989b3deb00f",
    15: "29284a62b0e53dec",
    16: "951ba2b457c0a1d9",
    17: "cdfb0c5b47cfe6fc",
}
POSTGRESQL = {
    1: "13f54f819c76cd46",
    2: "505bec93f95488b6",
    3: "96681e7fedb8e401",
}


def digests(steps: tuple[str, ...]) -> dict[int, str]:
    return {
        number: hashlib.sha256(text.encode()).hexdigest()[:16]
        for number, text in enumerate(steps, start=1)
    }


def test_sqlites_released_steps_are_as_released():
    assert digests(MIGRATIONS) == SQLITE


def test_postgresqls_released_steps_are_as_released():
    assert digests(STEPS) == POSTGRESQL
