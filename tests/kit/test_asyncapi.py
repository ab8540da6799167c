"""docs/asyncapi.yaml is a valid AsyncAPI 3 document, and what it says is what the daemon does.

Every example of a dossier event or an SMS job goes through the daemon's own payload
reader and its own intake, and must come out as the document says; every status example
must have the fields and states the daemon's status builder has. A payload rule or a status
field changed in the code without the document fails here.
"""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft7Validator, Draft202012Validator

from gateway.app import composer_settings, intake_settings
from gateway.domain.status_event import STATES, status_event
from gateway.intake.payloads import Rejection, parse_dossier, parse_sms
from gateway.kit.schemas import NAMES, schema, schema_text
from gateway.kit.validate import judge
from gateway.mail.address import mask_address
from gateway.settings.config import default_config
from tests.support.asyncapi_document import (
    ASYNCAPI,
    ASYNCAPI_SCHEMA,
    DOC_SCHEMAS,
    INPUTS,
    Example,
    document,
    input_examples,
    status_examples,
)

CONFIG = default_config()
EXAMPLES = input_examples()


def read(example: Example) -> object:
    """The example as the daemon's reader takes it from its topic."""
    if example.kind == "dossier":
        return parse_dossier(
            example.data, topic_agency=example.agency, agencies=CONFIG.agencies, tz=CONFIG.tz
        )
    return parse_sms(example.data, topic_agency=example.agency, agencies=CONFIG.agencies)


def test_the_document_is_valid_asyncapi_3():
    meta = json.loads(ASYNCAPI_SCHEMA.read_text(encoding="utf-8"))
    doc = document()

    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in Draft7Validator(meta).iter_errors(doc)
    ]

    assert doc["asyncapi"] == "3.0.0"
    assert errors == []


def test_the_asyncapi_check_finds_a_broken_document():
    """The check above can fail: a channel without its required shape is refused."""
    meta = json.loads(ASYNCAPI_SCHEMA.read_text(encoding="utf-8"))
    doc = document()
    doc["operations"]["publishStatus"]["action"] = "publish"  # AsyncAPI 2 wording

    assert not Draft7Validator(meta).is_valid(doc)


@pytest.mark.parametrize("name", NAMES)
def test_each_payload_schema_is_valid_draft_2020_12(name):
    Draft202012Validator.check_schema(schema(name))
    assert schema(name)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("name", NAMES)
def test_docs_schema_files_are_the_ones_the_package_ships(name):
    assert (DOC_SCHEMAS / f"{name}.json").read_text(encoding="utf-8") == schema_text(name)


def test_each_message_refers_to_its_schema_file_beside_the_document():
    messages = document()["components"]["messages"]
    refs = {name: m["payload"]["schema"]["$ref"] for name, m in messages.items()}

    assert refs == {
        "dossierEvent": "./schema/dossier.json",
        "smsJob": "./schema/sms.json",
        "status": "./schema/status.json",
    }
    assert all((ASYNCAPI.parent / ref).is_file() for ref in refs.values())


def test_the_channels_are_the_topics_the_daemon_uses():
    doc = document()
    addresses = {name: c["address"] for name, c in doc["channels"].items()}
    prefix = CONFIG.mqtt.topic_prefix

    assert addresses == {
        kind: f"{prefix}/{{agency}}/{kind}" for kind in ("dossier", "sms", "status")
    }


def test_every_input_example_has_its_documented_outcome():
    messages = document()["components"]["messages"]
    for message in INPUTS:
        names = [e["name"] for e in messages[message]["examples"]]
        assert len(set(names)) == len(names)
        assert set(messages[message]["x-outcomes"]) == set(names)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_every_input_example_is_read_by_the_daemons_reader_as_documented(example):
    result = read(example)

    if example.reader == "rejected":
        assert isinstance(result, Rejection)
        assert example.status is not None
        assert example.status["state"] == "rejected"
        assert result.reason == example.status["reason"]
    else:
        assert example.reader == "accepted"
        assert not isinstance(result, Rejection), result


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
async def test_every_input_example_gets_the_documented_status_from_the_daemons_intake(example):
    [verdict] = await judge(
        [(1, example.data)],
        intake_settings(CONFIG),
        composer_settings(CONFIG),
        kind=example.kind,
        agency=example.agency,
    )

    got = [{key: s[key] for key in ("id", "state", "reason")} for s in verdict.statuses]
    assert got == ([example.status] if example.status else [])


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_every_input_example_the_reader_accepts_fits_its_schema(example):
    """The schema is never stricter than the daemon: what the reader takes, it allows."""
    validator = Draft202012Validator(schema(example.kind))
    if example.reader == "accepted":
        assert list(validator.iter_errors(example.payload)) == []


def test_there_are_examples_the_schemas_refuse_as_the_reader_does():
    """Shape errors (a number for a string, a field missing) are in the schema too."""
    refused = [
        e.name for e in EXAMPLES if not Draft202012Validator(schema(e.kind)).is_valid(e.payload)
    ]
    assert {"receipt-number-unquoted", "missing-occurred-at", "unknown-status"} <= set(refused)
    assert {"text-and-template", "to-unquoted"} <= set(refused)
    assert all(e.reader == "rejected" for e in EXAMPLES if e.name in refused)


def test_status_examples_cover_every_state():
    assert {e["payload"]["state"] for e in status_examples()} == STATES


@pytest.mark.parametrize("example", status_examples(), ids=lambda e: e["name"])
def test_every_status_example_fits_the_status_schema(example):
    assert list(Draft202012Validator(schema("status")).iter_errors(example["payload"])) == []


def _built_status(link: str | None = None, channel: str | None = None) -> dict[str, object]:
    return status_event(
        ref="SCT-1:result", event_id="SCT-1", receipt_no="0101701234", kind="result",
        phone="84905123456", state="delivered", reason=None, segments=1, at=1_795_000_000.0,
        link=link, channel=channel,
    )  # fmt: skip


# Every status the daemon may build: with and without each optional field.
_BUILT = [_built_status(link, channel) for link in (None, "viettel") for channel in (None, "zalo")]


def test_the_status_schema_has_exactly_the_fields_the_daemon_publishes():
    status = schema("status")

    assert set(status["properties"]) == set(_built_status(link="viettel", channel="sms"))
    assert set(status["required"]) == set(_built_status())
    assert status["additionalProperties"] is False


def test_the_link_and_the_channel_are_the_optional_fields_of_a_status():
    full = _built_status(link="viettel", channel="sms")
    assert set(full) - set(_built_status()) == {"link", "channel"}
    assert not {"link", "channel"} & set(schema("status")["required"])


@pytest.mark.parametrize("example", status_examples(), ids=lambda e: e["name"])
def test_every_status_example_has_exactly_the_fields_the_daemon_publishes(example):
    assert list(example["payload"]) in [list(built) for built in _BUILT]


@pytest.mark.parametrize("built", _BUILT, ids=lambda b: "+".join(sorted(set(b) - {"id"}))[-30:])
def test_a_status_the_daemon_builds_fits_the_status_schema(built):
    assert list(Draft202012Validator(schema("status")).iter_errors(built)) == []


def test_the_status_schemas_states_are_the_daemons():
    assert set(schema("status")["properties"]["state"]["enum"]) == STATES


def test_the_status_schema_refuses_an_unmasked_number():
    status = dict(_built_status(), to="84905123456")

    assert not Draft202012Validator(schema("status")).is_valid(status)


@pytest.mark.parametrize("address", ["nguyenvana@gmail.com", "a@b.vn", "x.y+z@mail.hcm.gov.vn"])
def test_the_status_schema_takes_an_email_copys_masked_address(address):
    status = dict(_built_status(channel="email"), to=mask_address(address))

    assert Draft202012Validator(schema("status")).is_valid(status)


def test_the_status_schema_refuses_an_unmasked_address():
    status = dict(_built_status(channel="email"), to="nguyenvana@gmail.com")

    assert not Draft202012Validator(schema("status")).is_valid(status)


def test_the_national_status_codes_are_the_readers():
    codes = document()["info"]["x-national-status-codes"]
    base = json.loads(next(e for e in EXAMPLES if e.name == "spec-processing").data)

    def status_of(code: object) -> str | None:
        event = parse_dossier(
            json.dumps(dict(base, status=code)).encode(),
            topic_agency="SCT", agencies=CONFIG.agencies, tz=CONFIG.tz,
        )  # fmt: skip
        return None if isinstance(event, Rejection) else event.status

    assert {int(code) for code in codes} == set(range(1, 11))
    assert {int(code): status_of(int(code)) for code in codes} == {
        int(c): s for c, s in codes.items()
    }
    assert {int(code): status_of(str(code)) for code in codes} == {
        int(c): s for c, s in codes.items()
    }
    assert status_of(0) is None and status_of(11) is None


def test_docs_schema_holds_exactly_the_shipped_schemas():
    assert {p.name for p in DOC_SCHEMAS.iterdir()} == {f"{name}.json" for name in NAMES}
