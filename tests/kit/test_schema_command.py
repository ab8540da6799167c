"""`motcua-sms schema dossier|sms|status` prints the schema the installed package ships."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gateway.cli import main
from gateway.kit.schemas import NAMES, schema_text


@pytest.mark.parametrize("name", NAMES)
def test_schema_prints_the_shipped_schema_as_is(name, capsys):
    code = main(["schema", name])
    out, err = capsys.readouterr()

    assert code == 0
    assert out == schema_text(name)
    assert json.loads(out)["$id"].endswith(f"/{name}.json")
    assert err == ""


def test_schema_of_an_unknown_payload_is_a_usage_error_naming_the_choices():
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "schema", "receipt"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert done.returncode == 2
    assert "invalid choice: 'receipt'" in done.stderr
    assert all(name in done.stderr for name in NAMES)


def test_the_schemas_are_package_data_of_the_installed_package():
    from importlib import resources

    shipped = resources.files("gateway.kit").joinpath("schema")
    assert sorted(p.name for p in shipped.iterdir()) == sorted(f"{n}.json" for n in NAMES)
