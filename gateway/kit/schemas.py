"""The JSON Schemas (draft 2020-12) of the three MQTT payloads, shipped as package data.

One copy lives here, beside the code that reads and writes the payloads, so that an
installed gateway can print the schemas its own version keeps (`motcua-sms schema`);
docs/schema/ holds the same files for readers of the repository, and a test holds the two
equal.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

# The payload each schema describes, by the name `motcua-sms schema NAME` takes.
NAMES = ("dossier", "sms", "status")


def schema_text(name: str) -> str:
    """The schema file's text, as shipped. KeyError for a name not in NAMES."""
    if name not in NAMES:
        raise KeyError(name)
    return resources.files(__package__).joinpath("schema", f"{name}.json").read_text("utf-8")


def schema(name: str) -> dict[str, Any]:
    """The schema as a JSON object."""
    return json.loads(schema_text(name))
