"""The `zalo:` section: what it takes, every refusal with its key and line, secrets hidden."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from gateway.cli import main
from gateway.settings.config import ConfigError, parse_config
from gateway.settings.show import redacted
from gateway.settings.zalo import OAUTH_URL, ZALO_OA_SECRET_KEY_ENV, ZALO_SECRET_KEY_ENV

AGENCY = "agencies:\n  SCT:\n    name: Sở Công Thương\n"
SECTION = """zalo:
  app_id: "4143000000000000001"
  oa_id: "2890000000000000002"
  refresh_token_file: token
  secret_key: app-secret-value
  oa_secret_key: oa-secret-value
  templates:
    result:
      template_id: "231456"
      params:
        ma_ho_so: "{receipt_no}"
        co_quan: "{agency_name}"
"""


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    (tmp_path / "token").write_text("first-refresh-token\n", encoding="utf-8")
    return tmp_path


def load(config_dir: Path, text: str, env: dict[str, str] | None = None):
    return parse_config(AGENCY + text, path=str(config_dir / "gateway.yaml"), env=env or {})


def refusal(config_dir: Path, text: str, env: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load(config_dir, text, env)
    return info.value


def test_an_absent_section_turns_zalo_off(config_dir):
    assert load(config_dir, "").zalo is None


def test_an_empty_section_turns_zalo_off(config_dir):
    assert load(config_dir, "zalo:\n").zalo is None


def test_the_section_is_read_with_its_defaults(config_dir):
    zalo = load(config_dir, SECTION).zalo

    assert zalo is not None
    assert (zalo.app_id, zalo.oa_id) == ("4143000000000000001", "2890000000000000002")
    assert zalo.refresh_token_file == str(config_dir / "token")
    assert zalo.oauth_url == OAUTH_URL
    assert (zalo.fallback_after, zalo.refresh_before, zalo.timeout) == (600.0, 300.0, 10.0)
    assert (zalo.webhook.host, zalo.webhook.port, zalo.webhook.path) == (
        "127.0.0.1",
        8091,
        "/zalo/webhook",
    )
    assert zalo.webhook.max_age == 300.0
    assert zalo.templates["result"].template_id == "231456"
    assert dict(zalo.templates["result"].params) == {
        "ma_ho_so": "{receipt_no}",
        "co_quan": "{agency_name}",
    }


def test_secrets_come_from_the_environment_first(config_dir):
    env = {ZALO_SECRET_KEY_ENV: "from-env", ZALO_OA_SECRET_KEY_ENV: "oa-from-env"}

    zalo = load(config_dir, SECTION, env).zalo

    assert zalo is not None
    assert (zalo.secret_key, zalo.oa_secret_key) == ("from-env", "oa-from-env")


def test_secrets_come_from_their_files_beside_the_configuration(config_dir):
    (config_dir / "app.key").write_text("app-from-file\n", encoding="utf-8")
    (config_dir / "oa.key").write_text("oa-from-file\n", encoding="utf-8")
    text = SECTION.replace("secret_key: app-secret-value", "secret_key_file: app.key").replace(
        "oa_secret_key: oa-secret-value", "oa_secret_key_file: oa.key"
    )

    zalo = load(config_dir, text).zalo

    assert zalo is not None
    assert (zalo.secret_key, zalo.oa_secret_key) == ("app-from-file", "oa-from-file")


def test_check_config_shows_the_section_with_secrets_hidden(config_dir):
    shown = redacted(load(config_dir, SECTION))["zalo"]

    assert (shown["secret_key"], shown["oa_secret_key"]) == ("***", "***")
    assert shown["templates"]["result"]["template_id"] == "231456"
    dumped = json.dumps(shown)
    assert "app-secret-value" not in dumped and "oa-secret-value" not in dumped


def test_the_secrets_are_not_in_the_section_s_repr(config_dir):
    zalo = load(config_dir, SECTION).zalo

    assert "app-secret-value" not in repr(zalo) and "oa-secret-value" not in repr(zalo)


def test_check_config_shows_zalo_off_as_none(config_dir):
    assert redacted(load(config_dir, ""))["zalo"] is None


REFUSALS = [
    pytest.param(
        SECTION.replace('  app_id: "4143000000000000001"\n', ""),
        "zalo.app_id",
        4,
        "missing",
        id="app_id missing",
    ),
    pytest.param(
        SECTION.replace('"4143000000000000001"', "4143000000000000001"),
        "zalo.app_id",
        5,
        "quote it",
        id="app_id unquoted",
    ),
    pytest.param(
        SECTION.replace("  secret_key: app-secret-value\n", ""),
        "zalo.secret_key",
        4,
        f"missing: give it in {ZALO_SECRET_KEY_ENV}, secret_key_file or secret_key",
        id="secret_key missing",
    ),
    pytest.param(
        SECTION.replace("  oa_secret_key: oa-secret-value\n", ""),
        "zalo.oa_secret_key",
        4,
        f"missing: give it in {ZALO_OA_SECRET_KEY_ENV}",
        id="oa_secret_key missing",
    ),
    pytest.param(
        SECTION.replace("secret_key: app-secret-value", "secret_key_file: nowhere.key"),
        "zalo.secret_key_file",
        8,
        "cannot read",
        id="secret_key_file unreadable",
    ),
    pytest.param(
        SECTION.replace("refresh_token_file: token", "refresh_token_file: missing-token"),
        "zalo.refresh_token_file",
        7,
        "put the OA's first refresh token there",
        id="refresh_token_file missing",
    ),
    pytest.param(
        SECTION.replace("    result:", "    mckh_reply:"),
        "zalo.templates.mckh_reply",
        11,
        "the MCKH reply is not a notice",
        id="mckh_reply template",
    ),
    pytest.param(
        SECTION.replace("    result:", "    resutl:"),
        "zalo.templates.resutl",
        11,
        "did you mean 'result'?",
        id="unknown notice kind",
    ),
    pytest.param(
        SECTION.replace('"{agency_name}"', '"{agency}"'),
        "zalo.templates.result.params.co_quan",
        15,
        "unknown placeholder {agency}",
        id="unknown placeholder",
    ),
    pytest.param(
        SECTION.replace('"{agency_name}"', '"{agency_name!r}"'),
        "zalo.templates.result.params.co_quan",
        15,
        "takes no conversion",
        id="placeholder with a conversion",
    ),
    pytest.param(
        SECTION.replace("ma_ho_so:", "1ma:"),
        "zalo.templates.result.params.1ma",
        14,
        "a ZNS parameter name",
        id="bad parameter name",
    ),
    pytest.param(
        SECTION.replace('      template_id: "231456"\n', ""),
        "zalo.templates.result.template_id",
        11,
        "missing: the id Zalo gave the template",
        id="template_id missing",
    ),
    pytest.param(
        SECTION.replace('"231456"', "231456"),
        "zalo.templates.result.template_id",
        12,
        'quote it: "231456"',
        id="template_id unquoted",
    ),
    pytest.param(
        SECTION.replace("      params:", "      parameters:"),
        "zalo.templates.result.parameters",
        13,
        "unknown key",
        id="unknown template key",
    ),
    pytest.param(
        SECTION + "  fallback_after: 0\n",
        "zalo.fallback_after",
        16,
        "greater than 0",
        id="fallback_after zero",
    ),
    pytest.param(
        SECTION + "  refresh_before: -1\n",
        "zalo.refresh_before",
        16,
        "0 or more",
        id="refresh_before negative",
    ),
    pytest.param(
        SECTION + "  timeout: 0\n",
        "zalo.timeout",
        16,
        "greater than 0",
        id="timeout zero",
    ),
    pytest.param(
        SECTION + "  fallback_after: 5\n",
        "zalo.timeout",
        16,
        "must be less than fallback_after (5)",
        id="timeout not below fallback_after",
    ),
    pytest.param(
        SECTION + "  zns_url: business.openapi.zalo.me/message/template\n",
        "zalo.zns_url",
        16,
        "http:// or https://",
        id="url without scheme",
    ),
    pytest.param(
        SECTION + "  webhook:\n    port: 70000\n",
        "zalo.webhook.port",
        17,
        "from 1 to 65535",
        id="webhook port",
    ),
    pytest.param(
        SECTION + "  webhook:\n    path: zalo/webhook\n",
        "zalo.webhook.path",
        17,
        "starting with '/'",
        id="webhook path",
    ),
    pytest.param(
        SECTION + "  webhook:\n    max_age: 0\n",
        "zalo.webhook.max_age",
        17,
        "greater than 0",
        id="webhook max_age",
    ),
    pytest.param(
        SECTION + "  webhok: {}\n",
        "zalo.webhok",
        16,
        "did you mean 'webhook'?",
        id="unknown key",
    ),
]


@pytest.mark.parametrize(("text", "key", "line", "message"), REFUSALS)
def test_a_bad_value_is_refused_with_its_key_and_line(config_dir, text, key, line, message):
    error = refusal(config_dir, text)

    assert (error.key, error.line) == (key, line), str(error)
    assert message in error.message, error.message


def test_a_refused_secret_is_never_shown(config_dir):
    error = refusal(
        config_dir, SECTION.replace("secret_key: app-secret-value", "secret_key: 12345")
    )

    assert error.key == "zalo.secret_key"
    assert "12345" not in str(error)


def test_an_empty_refresh_token_file_is_refused(config_dir):
    (config_dir / "token").write_text("\n", encoding="utf-8")

    error = refusal(config_dir, SECTION)

    assert (error.key, error.line) == ("zalo.refresh_token_file", 7)
    assert "is empty" in error.message


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to any directory")
def test_a_refresh_token_file_in_a_read_only_directory_is_refused(config_dir):
    locked = config_dir / "locked"
    locked.mkdir()
    (locked / "token").write_text("first\n", encoding="utf-8")
    locked.chmod(0o500)
    try:
        error = refusal(config_dir, SECTION.replace("file: token", "file: locked/token"))
    finally:
        locked.chmod(0o700)

    assert error.key == "zalo.refresh_token_file"
    assert "not writable" in error.message


def test_check_config_prints_the_section_with_secrets_as_stars(config_dir, capsys):
    path = config_dir / "gateway.yaml"
    path.write_text(AGENCY + SECTION, encoding="utf-8")

    assert main(["check-config", "-c", str(path)]) == 0

    shown = yaml.safe_load(capsys.readouterr().out)["zalo"]
    assert (shown["secret_key"], shown["oa_secret_key"]) == ("***", "***")
    assert shown["templates"]["result"]["params"]["ma_ho_so"] == "{receipt_no}"


def test_check_config_never_prints_the_secrets(config_dir, capsys):
    path = config_dir / "gateway.yaml"
    path.write_text(AGENCY + SECTION, encoding="utf-8")

    main(["check-config", "-c", str(path)])

    out = capsys.readouterr()
    assert "app-secret-value" not in out.out + out.err
    assert "oa-secret-value" not in out.out + out.err


def test_a_fallback_after_beyond_the_messages_ttl_is_refused(config_dir):
    error = refusal(config_dir, SECTION + "  fallback_after: 90000\nretry:\n  ttl_hours: 24\n")

    assert error.key == "zalo.fallback_after"
    assert "less than the messages' TTL (86400 s" in error.message
