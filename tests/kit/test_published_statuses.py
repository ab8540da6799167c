"""A running daemon, through a real mosquitto and the SMSC simulator, publishes statuses that
fit the documented schema, answers the documented examples as docs/asyncapi.yaml says, and
logs every status it publishes where the run-wide check (tests/conftest.py) reads it."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from gateway.app import composer_settings, intake_settings
from gateway.domain.status_event import STATES
from gateway.kit.schemas import schema
from gateway.kit.validate import judge
from gateway.ops.logs import mask_value
from gateway.settings.config import AdminConfig
from gateway.smpp.sim import Rule, SimConfig, SmscSimulator
from tests.support.asyncapi_document import input_examples
from tests.support.daemon import (
    DAEMON_LOGS,
    StatusWatch,
    gateway_config,
    publish,
    running_gateway,
)
from tests.support.published import published_statuses, violations

FINAL = {"delivered", "undeliverable", "expired", "failed", "rejected", "skipped"}
# Numbers the simulator answers each way (84912... are mobile numbers).
OUTCOMES = {
    "84912000001": (Rule(pattern="84912000001", outcome="undeliverable"), "undeliverable"),
    "84912000002": (Rule(pattern="84912000002", outcome="reject"), "failed"),
    "84912000003": (Rule(pattern="84912000003", outcome="expired"), "expired"),
    "84912000004": (Rule(pattern="84912000004", outcome="transient", count=1), "delivered"),
}


@dataclasses.dataclass
class Run:
    prefix: str
    statuses: list[dict[str, Any]]
    topics: list[str]
    config: Any


@pytest.fixture
async def run(broker, tmp_path) -> AsyncIterator[Run]:
    """Every documented input example and one SMS job per simulator outcome, published to
    a daemon of its own under a topic prefix of its own, until each has its final state."""
    prefix = f"kit-{uuid.uuid4().hex[:8]}"
    rules = tuple(rule for rule, _ in OUTCOMES.values())
    async with SmscSimulator(SimConfig(receipt_delay=0.01, rules=rules)) as smsc:
        config = gateway_config(
            broker_port=broker.port, smsc_port=smsc.port, db=tmp_path / "gateway.db",
            client_id=f"gw-{prefix}",
        )  # fmt: skip
        config = dataclasses.replace(
            config,
            mqtt=dataclasses.replace(config.mqtt, topic_prefix=prefix),
            admin=AdminConfig(enabled=False),
        )
        examples = input_examples()
        items: list[tuple[str, Any]] = [
            (e.topic.replace("motcua/", f"{prefix}/", 1), e.payload) for e in examples
        ]
        items += [
            (f"{prefix}/SCT/sms", {"id": f"job-{n}", "to": number, "text": "Kiểm tra"})
            for n, number in enumerate(OUTCOMES)
        ]
        expected = {e.status["id"] for e in examples if e.status} | {
            f"job-{n}" for n in range(len(OUTCOMES))
        }
        async with StatusWatch(broker.port, prefix) as watch, running_gateway(config):
            await publish(broker.port, items)
            await watch.wait_for(
                lambda events: {e["id"] for e in events if e["state"] in FINAL} >= expected,
                timeout=30,
            )
            # The daemon logs a status once the broker's PUBACK is in, which may come
            # after the subscriber has it; stopping sooner would leave it unconfirmed
            # (published again after a restart) and unlogged.
            async with asyncio.timeout(10):
                while len(_logged(prefix)) < len(watch.events):
                    await asyncio.sleep(0.05)
        yield Run(prefix, watch.events, watch.topics, config)


def _logged(prefix: str) -> list[tuple[str, dict[str, Any] | None]]:
    return [
        (topic, payload)
        for _, topic, payload in published_statuses(DAEMON_LOGS)
        if topic.startswith(f"{prefix}/")
    ]


def test_every_status_a_daemon_publishes_fits_the_status_schema(run):
    validator = Draft202012Validator(schema("status"))

    assert [list(validator.iter_errors(s)) for s in run.statuses] == [[]] * len(run.statuses)


def test_a_daemon_publishes_every_documented_state(run):
    assert {s["state"] for s in run.statuses} == STATES


def test_each_simulator_outcome_ends_in_its_documented_state(run):
    finals = {s["id"]: s["state"] for s in run.statuses if s["state"] in FINAL}

    assert {f"job-{n}": finals[f"job-{n}"] for n in range(len(OUTCOMES))} == {
        f"job-{n}": state for n, (_, state) in enumerate(OUTCOMES.values())
    }


def test_a_daemon_answers_each_documented_example_as_the_document_says(run):
    first = {}
    for status in run.statuses:
        first.setdefault(status["id"], {k: status[k] for k in ("id", "state", "reason")})
    documented = [e.status for e in input_examples() if e.status]

    assert [first.get(s["id"]) for s in documented] == documented


async def test_validate_answers_what_the_running_daemon_published(run):
    """`motcua-sms validate` goes through the same intake: the same first status per id."""
    examples = input_examples()
    said: dict[str, tuple[str, str | None]] = {}
    for e in examples:
        [verdict] = await judge(
            [(1, e.data)],
            intake_settings(run.config),
            composer_settings(run.config),
            kind=e.kind,
            agency=e.agency,
        )
        said |= {s["id"]: (s["state"], s["reason"]) for s in verdict.statuses}
    published: dict[str, tuple[str, str | None]] = {}
    for status in run.statuses:
        published.setdefault(status["id"], (status["state"], status["reason"]))

    assert said == {ref: published[ref] for ref in said}
    assert len(said) == len([e for e in examples if e.status])


def test_every_status_a_daemon_publishes_is_in_its_log_for_the_run_wide_check(run):
    logged = _logged(run.prefix)
    seen = [(topic, _key(status)) for topic, status in zip(run.topics, run.statuses, strict=True)]

    assert len(seen) >= 20
    assert sorted(((t, _key(p)) for t, p in logged if p), key=repr) == sorted(seen, key=repr)
    assert violations(DAEMON_LOGS)[1] == []


def test_the_run_wide_check_names_a_status_off_the_schema(tmp_path):
    """What the session's check reports when the status builder gains a field the
    documents lack."""
    line = (
        '{"event": "status_published", "topic": "motcua/SCT/status", "payload": '
        '"{\\"id\\": \\"fee-1\\", \\"event_id\\": null, \\"receipt_no\\": null, \\"kind\\": '
        '\\"sms\\", \\"to\\": \\"8490*****56\\", \\"state\\": \\"queued\\", \\"reason\\": null, '
        '\\"segments\\": 1, \\"at\\": \\"2026-11-24T15:30:01+07:00\\", \\"carrier\\": \\"vt\\"}"}'
    )
    (tmp_path / "daemon.log").write_text(line + "\n", encoding="utf-8")

    count, found = violations(tmp_path)

    assert count == 1
    assert found == [
        "daemon.log:1: motcua/SCT/status: (status): Additional properties are not allowed "
        "('carrier' was unexpected)"
    ]


def _key(status: dict[str, Any]) -> tuple[object, ...]:
    """A status as the log keeps it: the log masks runs of nine digits or more (ids,
    receipt numbers), and masking a masked value changes nothing."""
    return tuple(mask_value(status[k]) for k in sorted(status))
