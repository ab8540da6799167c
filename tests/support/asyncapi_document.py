"""docs/asyncapi.yaml and docs/schema/ as the tests read them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
ASYNCAPI = ROOT / "docs" / "asyncapi.yaml"
DOC_SCHEMAS = ROOT / "docs" / "schema"
ASYNCAPI_SCHEMA = ROOT / "tests" / "data" / "asyncapi-3.0.0.json"

# The input messages of the document, by the kind of topic they go to.
INPUTS = {"dossierEvent": "dossier", "smsJob": "sms"}


def document() -> dict[str, Any]:
    """The document as JSON data (YAML's own types, such as dates, would not validate)."""
    return json.loads(json.dumps(yaml.safe_load(ASYNCAPI.read_text(encoding="utf-8"))))


@dataclass(frozen=True, slots=True)
class Example:
    """One example of an input message, with its documented outcome."""

    message: str
    name: str
    payload: Any
    topic: str
    reader: str  # "accepted" or "rejected"
    status: dict[str, Any] | None  # id, state, reason of the status published; None: none

    @property
    def agency(self) -> str:
        return self.topic.split("/")[-2]

    @property
    def kind(self) -> str:
        return self.topic.split("/")[-1]

    @property
    def data(self) -> bytes:
        return json.dumps(self.payload, ensure_ascii=False).encode()


def input_examples() -> list[Example]:
    messages = document()["components"]["messages"]
    found = []
    for message in INPUTS:
        outcomes = messages[message].get("x-outcomes", {})
        for example in messages[message]["examples"]:
            outcome = outcomes.get(example["name"], {})
            found.append(
                Example(
                    message=message,
                    name=example["name"],
                    payload=example["payload"],
                    topic=outcome.get("topic", ""),
                    reader=outcome.get("reader", ""),
                    status=outcome.get("status"),
                )
            )
    return found


def status_examples() -> list[dict[str, Any]]:
    return document()["components"]["messages"]["status"]["examples"]
