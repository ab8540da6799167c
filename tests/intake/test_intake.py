"""Intake through the real store: one bad item is refused alone, agencies' own templates.

These run `Intake.process` as the `Batcher` calls it, on a real SQLite store, so what is
checked is what would be committed and then acknowledged on MQTT.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import aiomqtt
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gateway.app import composer_settings, intake_settings
from gateway.compose.composer import Composer
from gateway.domain.message import NewMessage
from gateway.intake.consumer import Received
from gateway.intake.serving import serve_intake as serve
from gateway.mqtt.link import MqttLink, MqttSettings
from gateway.store.batch import Batcher
from gateway.store.store import Store
from tests.support.generated import generate
from tests.support.intake import FEE_PARAMS, IntakeRig, config, intake_on, job, template_job
from tests.support.store_reads import db_rows
from tests.support.wait import eventually


class Raising(Composer):
    """A composer with a bug that one job meets: any unexpected error will do."""

    def text(self, agency_code: str, *, ref: str, **kw: Any) -> NewMessage:
        if ref == "job-boom":
            raise RuntimeError("a bug met by one payload")
        return super().text(agency_code, ref=ref, **kw)


class Unstorable(Composer):
    """A composer that makes one message the database cannot take (a lone surrogate)."""

    def text(self, agency_code: str, *, ref: str, **kw: Any) -> NewMessage:
        message = super().text(agency_code, ref=ref, **kw)
        if ref == "job-unstorable":
            return dataclasses.replace(message, text="\ud800")
        return message


class TestOneBadItem:
    async def test_params_named_like_arguments_refuse_that_job_alone(self, rig):
        """`strip` / `template` in params are not placeholders: that job is rejected, the
        good ones batched with it are queued (before: TypeError, the batch failed)."""
        batch = [job(n) for n in range(5)]
        params = {"receipt_no": "1", "strip": "x", "template": "y"}
        batch.insert(2, template_job("poison", "result", params))

        await rig.intake.process(batch)

        messages = await rig.messages()
        assert {f"job-{n}" for n in range(5)} <= {
            r for r, m in messages.items() if m[0] == "queued"
        }
        reason = (await rig.rejected())["job-poison"]
        assert reason.startswith("params:") and "'strip'" in reason

    async def test_unexpected_error_in_one_item_refuses_it_and_commits_the_rest(
        self, tmp_path, store_location
    ):
        async with Store.open(store_location) as store:
            cfg = config()
            rig = IntakeRig(store, intake_on(store, cfg, Raising(composer_settings(cfg))))
            await rig.intake.process([job(1), job("boom"), job(2)])

            assert {r for r, m in (await rig.messages()).items() if m[0] == "queued"} == {
                "job-1",
                "job-2",
            }
            assert (await rig.rejected())["job-boom"] == (
                "payload: could not be processed (RuntimeError); nothing was queued"
            )

    async def test_item_the_store_cannot_take_is_refused_alone(self, tmp_path, store_location):
        """A commit failing for one item's value is retried item by item."""
        async with Store.open(store_location) as store:
            cfg = config()
            rig = IntakeRig(store, intake_on(store, cfg, Unstorable(composer_settings(cfg))))
            await rig.intake.process([job(1), job("unstorable"), job(2)])

            assert set(await rig.messages()) == {"job-1", "job-2"}
            assert "UnicodeEncodeError" in (await rig.rejected())["job-unstorable"]

    async def test_item_whose_parsing_raises_is_refused_alone(self, rig):
        """A template lookup that raises (a configuration the parser did not expect)."""
        cfg = config()
        agencies = dict(cfg.agencies)
        broken = dataclasses.replace(agencies["SCT"], templates=None)  # type: ignore[arg-type]
        rig.intake.reconfigure(
            intake_settings(
                dataclasses.replace(cfg, agencies=MappingProxyType({**agencies, "SCT": broken}))
            )
        )
        await rig.intake.process([job(1), template_job("odd", "fee_reminder", FEE_PARAMS)])

        assert set(await rig.messages()) == {"job-1"}
        assert (await rig.rejected())["job-odd"] == (
            "payload: could not be processed (TypeError); nothing was queued"
        )


class TestAgencyTemplates:
    async def test_job_naming_an_agency_template_is_queued_with_its_text(self, rig):
        """SPEC's `{id, to, template, params}` with a template of the configuration."""
        await rig.intake.process([template_job(1, "fee_reminder", FEE_PARAMS)])

        state, _reason, text = (await rig.messages())["job-1"]
        assert (state, text) == (
            "queued",
            "Hồ sơ 0101701234: lệ phí 50000 đồng, vui lòng nộp trước ngày 30/11/2026",
        )

    async def test_job_naming_a_notice_kind_uses_the_agency_wording(self, rig):
        params = {"receipt_no": "0101701234"}
        await rig.intake.process([template_job(1, "result", params)])

        state, _reason, text = (await rig.messages())["job-1"]
        assert state == "queued" and text is not None and text.startswith("Thông báo: Hồ sơ")

    async def test_unknown_template_is_rejected_naming_it(self, rig):
        await rig.intake.process([template_job(1, "fee_reminderx", FEE_PARAMS)])

        assert (await rig.rejected())["job-1"] == (
            "template: unknown template 'fee_reminderx' for agency 'SCT'"
        )

    async def test_missing_parameter_is_rejected_naming_it(self, rig):
        params = {k: v for k, v in FEE_PARAMS.items() if k != "deadline"}
        await rig.intake.process([template_job(1, "fee_reminder", params)])

        assert (await rig.rejected())["job-1"] == (
            "params: missing deadline (placeholder of template 'fee_reminder')"
        )

    async def test_parameter_that_is_not_a_placeholder_is_rejected_naming_it(self, rig):
        await rig.intake.process([template_job(1, "fee_reminder", {**FEE_PARAMS, "note": "x"})])

        reason = (await rig.rejected())["job-1"]
        assert reason.startswith("params: 'note' not a placeholder of template 'fee_reminder'")


class TestTooManyParts:
    async def test_text_of_more_than_255_parts_is_rejected_at_intake(
        self, tmp_path, store_location
    ):
        """A template filled to 20,000 UCS-2 characters: 299 parts (before: queued, and
        the encoder raised later in the sender)."""
        cfg = config(long="{x}" * 40)
        async with Store.open(store_location) as store:
            rig = IntakeRig(store, intake_on(store, cfg))
            await rig.intake.process([template_job(1, "long", {"x": "ă" * 500})])

            state, reason, _text = (await rig.messages())["job-1"]
            assert (state, reason) == (
                "rejected",
                "text: needs 299 SMS parts; concatenation allows at most 255",
            )

    def test_text_of_255_parts_is_queued(self):
        message = Composer(composer_settings(config())).text(
            "SCT", ref="r", kind="sms", to="0905123456", text="a" * (153 * 255)
        )
        assert (message.state, message.segments) == ("queued", 255)

    def test_text_of_256_parts_is_rejected(self):
        message = Composer(composer_settings(config())).text(
            "SCT", ref="r", kind="sms", to="0905123456", text="a" * (153 * 255 + 1)
        )
        assert (message.state, message.reason) == (
            "rejected",
            "text: needs 256 SMS parts; concatenation allows at most 255",
        )


# --------------------------------------------------------------------------- property

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
PARAM_NAMES = st.sampled_from(["strip", "template", "fields", "receipt_no", "amount", "self"])
ARBITRARY_JOBS = st.one_of(
    st.binary(max_size=200),
    JSON.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {
            "id": st.text(min_size=1, max_size=10),
            "to": st.sampled_from(["0905123456", "02583822123", "x"]),
            "template": st.sampled_from(["result", "fee_reminder", "apology", "nope", ""]),
            "params": st.dictionaries(
                PARAM_NAMES | st.text(max_size=8),
                st.text(max_size=10) | st.integers() | JSON,
                max_size=4,
            ),
        }
    ).map(lambda v: json.dumps(v).encode()),
)


def run_burst(bad: Sequence[bytes], good: int) -> tuple[set[str], int]:
    """Good jobs and `bad` payloads through the Batcher into a fresh store, as `serve`
    does; returns the good ids committed as queued and how many puts raised."""

    async def main() -> tuple[set[str], int]:
        async with Store.open(":memory:") as store:
            cfg = config()
            intake = intake_on(store, cfg)
            items = [job(f"good-{n}") for n in range(good)]
            for i, payload in enumerate(bad):
                items.insert((i * 3) % (len(items) + 1), Received("motcua/SCT/sms", payload))
            async with Batcher(intake.process, max_items=100, max_wait=0.01) as batcher:
                results = await asyncio.wait_for(
                    asyncio.gather(*(batcher.put(i) for i in items), return_exceptions=True), 10
                )
            rows = await db_rows(store, "SELECT ref FROM messages WHERE state = 'queued'")
            return {r for (r,) in rows}, sum(isinstance(r, BaseException) for r in results)

    return asyncio.run(main())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ARBITRARY_JOBS, min_size=1, max_size=8))
@example([json.dumps({"id": "p", "to": "0905123456", "template": "result",
                      "params": {"receipt_no": "1",
                                 "strip": "x"}}).encode()])  # fmt: skip
@pytest.mark.slow
def test_arbitrary_jobs_never_hold_up_good_ones(bad: list[bytes]) -> None:
    """Every good job batched with any payloads at all is committed, and every message
    is answered (its put returns, so it is acknowledged)."""
    queued, failed_puts = run_burst(bad, good=10)

    assert failed_puts == 0
    assert {f"job-good-{n}" for n in range(10)} <= queued


@pytest.mark.slow
async def test_arbitrary_jobs_over_mosquitto_are_all_acknowledged_and_good_ones_committed(
    broker, tmp_path: Path, store_location
):
    """The same property through a real broker: 200 generated payloads and a known
    poison job among 100 good jobs; every good job is committed, and nothing is left
    unacknowledged (a second connection on the same persistent session gets nothing
    redelivered)."""
    prefix = f"prop-{uuid.uuid4().hex[:8]}"
    cfg = config()
    cfg = dataclasses.replace(cfg, mqtt=dataclasses.replace(cfg.mqtt, topic_prefix=prefix))
    settings = MqttSettings(
        host=broker.host, port=broker.port, client_id=f"intake-{prefix}",
        session_expiry=300, reconnect_min=0.05, reconnect_max=0.3,
    )  # fmt: skip
    poison = {"id": "poison", "to": "0905123456", "template": "result",
              "params": {"receipt_no": "1", "strip": "x"}}  # fmt: skip
    bad = [*generate(ARBITRARY_JOBS, 200), json.dumps(poison).encode()]
    items = [(f"{prefix}/SCT/sms", job(f"good-{n}").payload) for n in range(100)]
    for i, payload in enumerate(bad):
        items.insert((i * 7) % (len(items) + 1), (f"{prefix}/SCT/sms", payload))
    good = {f"job-good-{n}" for n in range(100)}

    async with Store.open(store_location) as store:
        async with MqttLink(settings, [f"{prefix}/+/sms"]) as link:
            await link.wait_connected(10)
            task = asyncio.create_task(serve(link, intake_on(store, cfg)))
            try:
                async with aiomqtt.Client(broker.host, port=broker.port) as agency:
                    for topic, payload in items:
                        await agency.publish(topic, payload, qos=1)

                async def all_committed_and_acknowledged() -> bool:
                    rows = await db_rows(store, "SELECT ref FROM messages")
                    return good <= {r for (r,) in rows} and link.unacknowledged == 0

                await eventually(all_committed_and_acknowledged, 30, poll=0.05)
            finally:
                task.cancel()
        async with MqttLink(settings, [f"{prefix}/+/sms"]) as again:
            await again.wait_connected(10)
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(1.0):
                    await anext(again.messages())
