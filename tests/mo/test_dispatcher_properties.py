"""Whatever a phone sends, the dispatcher stores it and answers or refuses: never raises."""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.app import composer_settings, dispatcher_settings
from gateway.compose.composer import Composer
from gateway.domain.dossier import DossierRow
from gateway.mo.dispatcher import Dispatcher
from gateway.mo.guard import ANSWERED as REPLIED
from gateway.settings.config import MoConfig, default_config
from gateway.smpp.inbound import Mo
from gateway.smpp.text import segment_count
from gateway.store.store import Store
from handlers import mckh
from tests.support.mo import handler_context
from tests.support.store_reads import db_rows

# The outcomes that send a reply (every handler outcome: answered, help, missing,
# not_found, incomplete; and the dispatcher's not_understood, handler_error), and those
# that do not.
OUTCOMES = REPLIED | {"no_reply_sender", "rate_limited", "duplicate"}

phone_text = st.text(
    alphabet=st.sampled_from("MCKHmckhđĐạẠ0123456789 ._-:,;!?\t\n()<>ab€\u0300\U0001f600"),
    max_size=60,
)
senders = st.sampled_from(["84905123456", "0905123457", "VIETTEL", "9029", "", "+84 912 345 678"])


class Harness:
    """One event loop, one store, one dispatcher for all examples (fast enough for 300)."""

    def __init__(self) -> None:
        self.runner = asyncio.Runner()
        self.dir = tempfile.TemporaryDirectory()
        self.runner.run(self._open())

    async def _open(self) -> None:
        self._store_cm = Store.open(Path(self.dir.name) / "g.db")
        self.store = await self._store_cm.__aenter__()
        # Rate and duplicate rules off, so that every example reaches a handler.
        config = dataclasses.replace(
            default_config(), mo=MoConfig(rate_limit=10**9, duplicate_window=1e-9)
        )
        self.dispatcher = Dispatcher(
            self.store.mo_log,
            self.store.dossiers,
            Composer(composer_settings(config)),
            dispatcher_settings(config),
        )
        await self.dispatcher.__aenter__()
        await self.store.dossiers.record_intake(dossiers=[row()])

    def close(self) -> None:
        async def shut() -> None:
            await self.dispatcher.__aexit__(None, None, None)
            await self._store_cm.__aexit__(None, None, None)

        self.runner.run(shut())
        self.runner.close()
        self.dir.cleanup()


def row() -> DossierRow:
    return DossierRow(
        "0101701234", "0101701234", "SCT", "Cấp phép", None, "84905123456",
        "Thẩm định", "processing", "2026-11-25", False, "2026-11-20T09:00:00+07:00", None,
    )  # fmt: skip


HARNESS: Harness | None = None


def harness() -> Harness:
    global HARNESS
    if HARNESS is None:
        HARNESS = Harness()
    return HARNESS


def teardown_module() -> None:
    if HARNESS is not None:
        HARNESS.close()


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=phone_text, sender=senders)
def test_any_text_is_stored_and_answered_or_refused(text, sender):
    h = harness()
    before = h.runner.run(db_rows(h.store, "SELECT COUNT(*) FROM mo_log"))[0][0]

    h.runner.run(h.dispatcher.receive(Mo(source=sender, destination="8083", text=text)))

    rows = h.runner.run(
        db_rows(h.store, "SELECT outcome, reply_ref FROM mo_log ORDER BY id DESC LIMIT 1")
    )
    after = h.runner.run(db_rows(h.store, "SELECT COUNT(*) FROM mo_log"))[0][0]
    assert after == before + 1
    outcome, reply_ref = rows[0]
    assert outcome in OUTCOMES
    answered = outcome in REPLIED
    assert (reply_ref is not None) == answered
    if reply_ref is not None:
        (reply,) = h.runner.run(
            db_rows(h.store, "SELECT state, text FROM messages WHERE ref = ?", [reply_ref])
        )
        assert reply[0] == "queued" and reply[1]


@settings(max_examples=200, deadline=None)
@given(step=st.text(min_size=1, max_size=400))
def test_mckh_reply_never_takes_more_than_two_segments(step):
    """Whatever the step name, shortening keeps the reply within two segments."""
    config = default_config()
    context = handler_context(config, date(2026, 11, 23))
    for agency in ("SCT", "STP"):
        dossier = context.view(dataclasses.replace(row(), agency=agency, step=step))
        text = mckh.one(dossier, context)

        assert segment_count(text) <= 2
