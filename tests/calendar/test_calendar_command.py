"""`motcua-sms calendar`: the year as the daemon sees it, on defaults or a file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway.cli import main

AGENCY = "agencies:\n  SCT:\n    name: Sở Công Thương\n"
LOCAL = "schedule:\n  holidays: ['2026-11-20']\n  working_days: ['2026-01-10']\n" + AGENCY


def calendar(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    code = main(["calendar", *args])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def test_without_a_file_2027_lists_tet_from_the_built_in_calendar():
    """On embedded defaults, no date configured: Tết 2027, day by day, with its names."""
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "calendar", "--year", "2027"],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "2027-02-04  Thứ Năm   29 Tết" in lines
    assert "2027-02-05  Thứ Sáu   Giao thừa Tết Nguyên Đán" in lines
    assert "2027-02-06  Thứ Bảy   Tết Nguyên Đán" in lines
    assert "2027-02-10  Thứ Tư    Mùng năm Tết Nguyên Đán" in lines
    assert "2027-04-16  Thứ Sáu   Ngày Giỗ Tổ Hùng Vương" in lines


def test_days_off_come_one_a_line_in_date_order(capsys):
    """Every line of the first section is `YYYY-MM-DD  weekday  name`, sorted."""
    code, lines, _ = calendar(capsys, "--year", "2026")

    assert code == 0
    section = lines[1 : lines.index("")]
    assert [line[:10] for line in section] == sorted(line[:10] for line in section)
    assert section[0] == "2026-01-01  Thứ Năm   Tết Dương lịch"
    assert "2026-04-27  Thứ Hai   Ngày Giỗ Tổ Hùng Vương (nghỉ bù)" in section
    assert "2026-08-31  Thứ Hai   Ngày nghỉ (thay cho ngày 22/08/2026)" in section


def test_the_governments_working_saturday_is_listed_with_the_day_it_pays_for(capsys):
    _, lines, _ = calendar(capsys, "--year", "2026")

    assert "2026-08-22  Thứ Bảy   Ngày làm việc bù (cho ngày nghỉ 31/08/2026)" in lines


def test_local_days_off_and_working_days_from_the_file_are_listed(capsys, tmp_path: Path):
    config = tmp_path / "gateway.yaml"
    config.write_text(LOCAL, encoding="utf-8")

    code, lines, _ = calendar(capsys, "-c", str(config), "--year", "2026")

    assert code == 0
    assert "2026-11-20  Thứ Sáu   Ngày nghỉ của cơ quan (schedule.holidays)" in lines
    assert "2026-01-10  Thứ Bảy   Ngày làm việc (schedule.working_days)" in lines


def test_a_national_holiday_worked_locally_moves_to_the_working_days(capsys, tmp_path):
    """A province keeping its desk open on 24/11 sees the day among its working days."""
    config = tmp_path / "gateway.yaml"
    config.write_text("schedule:\n  working_days: ['2026-11-24']\n" + AGENCY, encoding="utf-8")

    _, lines, _ = calendar(capsys, "-c", str(config), "--year", "2026")

    assert (
        "2026-11-24  Thứ Ba    Ngày làm việc (schedule.working_days), thay vì: "
        "Ngày Văn hóa Việt Nam"
    ) in lines
    days_off = lines[1 : lines.index("")]
    assert not any(line.startswith("2026-11-24") for line in days_off)


def test_runs_unlike_an_ordinary_weeks_are_listed_with_the_dates_they_cover(capsys, tmp_path):
    """The eve of Tết, of 2/9, a Saturday worked and the Friday before it, a local day off."""
    config = tmp_path / "gateway.yaml"
    config.write_text(LOCAL, encoding="utf-8")

    _, lines, _ = calendar(capsys, "-c", str(config), "--year", "2026")

    runs = lines[lines.index("Apology runs at 17:30 unlike an ordinary week's, and the due "
                             "dates they cover:") + 1 :]  # fmt: skip
    assert "2026-01-09  Thứ Sáu   -> 2026-01-10" in runs
    assert "2026-01-10  Thứ Bảy   -> 2026-01-11 .. 2026-01-12 (2 days)" in runs
    assert "2026-02-13  Thứ Sáu   -> 2026-02-14 .. 2026-02-23 (10 days)" in runs
    assert "2026-08-28  Thứ Sáu   -> 2026-08-29 .. 2026-09-03 (6 days)" in runs
    assert "2026-11-19  Thứ Năm   -> 2026-11-20 .. 2026-11-23 (4 days)" in runs
    # An ordinary Friday is summed up, not listed.
    assert not any(line.startswith("2026-11-27") for line in runs)


def test_a_configuration_error_exits_3_naming_the_key(capsys, tmp_path: Path):
    config = tmp_path / "gateway.yaml"
    config.write_text("schedule:\n  working_days: ['22/08/2026']\n" + AGENCY, encoding="utf-8")

    code, lines, err = calendar(capsys, "-c", str(config), "--year", "2026")

    assert code == 3
    assert lines == []
    assert "schedule.working_days[0]" in err and "YYYY-MM-DD" in err


@pytest.mark.parametrize("year", ["1900", "2101", "26", "next"])
def test_a_year_outside_the_calendar_is_refused(capsys, year: str):
    with pytest.raises(SystemExit) as exit_:
        main(["calendar", "--year", year])

    assert exit_.value.code == 2
    assert "expected a year from 1901 to 2100" in capsys.readouterr().err


def test_the_shipped_example_lists_tet_without_its_password_files(capsys):
    """An operator checks the calendar without the right to read the secrets."""
    example = Path(__file__).resolve().parents[2] / "config" / "gateway.example.yaml"

    code, lines, err = calendar(capsys, "-c", str(example), "--year", "2026")

    assert (code, err) == (0, "")
    assert "2026-02-17  Thứ Ba    Tết Nguyên Đán" in lines
