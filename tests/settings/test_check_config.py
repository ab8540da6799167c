"""`motcua-sms check-config`: warns about text that stripping cannot bring to GSM-7, and
refuses a configuration error with exit 3."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main

CONFIG = """\
agencies:
  LDTBXH:
    name: "Sở Lao động – Thương binh và Xã hội"
    templates:
      result: "TB: “Hồ sơ” ({receipt_no}) đã xong… Mời đến {agency_name}"
  KCN:
    name: "Ban Quản lý Khu Công nghệ cao ★"
    templates:
      supplement: "Hồ sơ ({receipt_no}) cần bổ sung 📄 tại {agency_name}"
  STP:
    name: "Sở Tư pháp ★"
    diacritics: keep
"""


def check(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> list[str]:
    path = tmp_path / "gateway.yaml"
    path.write_text(text, encoding="utf-8")
    assert main(["check-config", "-c", str(path)]) == 0
    return [line for line in capsys.readouterr().err.splitlines() if "warning" in line]


def test_name_and_template_still_not_gsm7_after_stripping_are_named(tmp_path, capsys):
    warnings = check(tmp_path, capsys, CONFIG)

    assert len(warnings) == 2
    assert "agencies.KCN.name" in warnings[0]
    assert "'★' (U+2605)" in warnings[0]
    assert "agencies.KCN.templates.supplement" in warnings[1]
    assert "U+1F4C4" in warnings[1]
    assert all("UCS-2" in w for w in warnings)


def test_typographic_punctuation_that_folds_is_not_warned_about(tmp_path, capsys):
    """The en dash, curly quotes and ellipsis fold to GSM-7: nothing to warn about."""
    warnings = check(tmp_path, capsys, CONFIG)

    assert not any("LDTBXH" in w for w in warnings)


def test_agency_keeping_diacritics_is_not_checked(tmp_path, capsys):
    """An agency that keeps diacritics has chosen UCS-2 already."""
    warnings = check(tmp_path, capsys, CONFIG)

    assert not any("STP" in w for w in warnings)


def test_clean_configuration_prints_no_warning(tmp_path, capsys):
    assert check(tmp_path, capsys, "agencies:\n  SCT:\n    name: Sở Công Thương\n") == []


def test_a_300_digit_response_timeout_is_a_configuration_error_exit_3(tmp_path, capsys):
    path = tmp_path / "gateway.yaml"
    path.write_text(
        "smpp:\n  response_timeout: 1" + "0" * 300 + "\nagencies:\n  SCT:\n    name: Sở\n",
        encoding="utf-8",
    )

    assert main(["check-config", "-c", str(path)]) == 3
    assert f"{path}:2: smpp.response_timeout: must be a number" in capsys.readouterr().err
