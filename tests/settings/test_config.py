"""The configuration file as the operator's contract: what it accepts and how it refuses."""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import date, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.settings.config import (
    AgencyConfig,
    Config,
    ConfigError,
    default_config,
    load_config,
    parse_config,
)
from gateway.settings.show import redacted

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "gateway.example.yaml"

AGENCY = "agencies:\n  SCT:\n    name: Sở Công Thương\n"


def parse(text: str, **env: str) -> Config:
    return parse_config(text, path="/etc/motcua-sms/gateway.yaml", env=env)


def refusal(text: str, **env: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse(text, **env)
    return info.value


class TestDefaults:
    def test_minimal_file_is_one_agency(self):
        """A file with only an agency gets every other setting from the defaults."""
        config = parse(AGENCY)

        assert dataclasses.replace(config, agencies=Config().agencies, source_path=None) == Config()
        assert config.agencies["SCT"].name == "Sở Công Thương"

    def test_defaults_follow_the_spec(self):
        """Brandname, shortcode, window, schedule and keywords are the SPEC's."""
        config = Config()

        assert (
            config.smpp.source_addr,
            config.smpp.shortcodes,
            config.smpp.window,
            config.smpp.tps,
        ) == ("MotcuaSMS", ("8083",), 10, 50.0)
        assert time(17, 30) == config.schedule.apology_at
        assert (time(21, 0), time(7, 0)) == config.schedule.quiet_hours
        # The national holidays are built in (gateway.calendar.workdays): nothing to configure.
        assert (frozenset(), frozenset()) == (
            config.schedule.holidays,
            config.schedule.working_days,
        )
        assert {5, 6} == config.schedule.weekend
        assert dict(config.keywords) == {"MCKH": "mckh", "HELP": "help", "HD": "help"}
        assert config.store.retention_days == 365
        assert config.retry.ttl == 48 * 3600

    def test_tz_is_the_zoneinfo_of_timezone(self):
        """`tz` gives the ZoneInfo the scheduler computes with."""
        assert ZoneInfo("Asia/Ho_Chi_Minh") == Config().tz

    def test_agency_defaults(self):
        """An agency skips same-day procedures, strips diacritics, sends the three notices."""
        agency = parse(AGENCY).agencies["SCT"]

        assert AgencyConfig(code="SCT", name="Sở Công Thương") == agency
        assert {"result", "supplement", "apology"} == agency.notices

    def test_default_config_has_the_demo_agencies(self):
        """The demo runs on SCT (Sở Công Thương) and STP (Sở Tư pháp)."""
        config = default_config()

        assert list(config.agencies) == ["SCT", "STP"]
        assert config.agencies["STP"].name == "Sở Tư pháp"
        assert config.source_path is None

    def test_config_is_frozen(self):
        """Built once, passed around, never changed behind anyone's back."""
        config = Config()

        with pytest.raises(dataclasses.FrozenInstanceError):
            config.smpp.window = 5  # type: ignore[misc]


BAD_FILES = [
    # (id, YAML, key, line, fragment of the message)
    (
        "wrong type",
        "smpp:\n  window: ten\n" + AGENCY,
        "smpp.window",
        2,
        "positive integer, got 'ten'",
    ),
    ("negative window", "smpp:\n  window: -1\n" + AGENCY, "smpp.window", 2, "positive integer"),
    ("zero window", "smpp:\n  window: 0\n" + AGENCY, "smpp.window", 2, "positive integer"),
    ("port out of range", "mqtt:\n  port: 70000\n" + AGENCY, "mqtt.port", 2, "from 1 to 65535"),
    ("octal port", "smpp:\n  port: 02775\n" + AGENCY, "smpp.port", 2, "octal"),
    ("negative tps", "smpp:\n  tps: -5\n" + AGENCY, "smpp.tps", 2, "0 or more"),
    ("unknown key", "smpp:\n  windw: 3\n" + AGENCY, "smpp.windw", 2, "did you mean 'window'?"),
    ("unknown section", "smtp:\n  host: x\n" + AGENCY, "smtp", 1, "did you mean 'smpp'?"),
    (
        "key at the wrong level",
        "quiet_hours: off\n" + AGENCY,
        "quiet_hours",
        1,
        "belongs under schedule:",
    ),
    (
        "unquoted phone-like sender id",
        "smpp:\n  source_addr: 0357123456\n" + AGENCY,
        "smpp.source_addr",
        2,
        'as the number 62695214; quote it: "0357123456"',
    ),
    (
        "unquoted shortcode",
        "smpp:\n  shortcodes: [8083]\n" + AGENCY,
        "smpp.shortcodes[0]",
        2,
        'quote it: "8083"',
    ),
    (
        "shortcode not in a list",
        "smpp:\n  shortcodes: '8083'\n" + AGENCY,
        "smpp.shortcodes",
        2,
        "must be a list",
    ),
    (
        "sender id too long",
        "smpp:\n  source_addr: SoCongThuongKH\n" + AGENCY,
        "smpp.source_addr",
        2,
        "at most 11",
    ),
    (
        "yes boolean",
        "smpp:\n  system_id: yes\n" + AGENCY,
        "smpp.system_id",
        2,
        "boolean true; quote it",
    ),
    ("bad bind", "smpp:\n  bind: transciever\n" + AGENCY, "smpp.bind", 2, "did you mean"),
    (
        "reconnect_max below reconnect_min",
        "smpp:\n  reconnect_min: 10\n  reconnect_max: 5\n" + AGENCY,
        "smpp.reconnect_max",
        3,
        "reconnect_min",
    ),
    (
        "status class reclassifies ok",
        "smpp:\n  status_classes:\n    0x58: ok\n" + AGENCY,
        "smpp.status_classes.0x58",
        3,
        "only status 0",
    ),
    (
        "unknown status class",
        "smpp:\n  status_classes:\n    '0x45': retry\n" + AGENCY,
        "smpp.status_classes.0x45",
        3,
        "one of ok, throttle, transient, permanent",
    ),
    ("bad timezone", "timezone: Asia/Hanoi\n" + AGENCY, "timezone", 1, "unknown time zone"),
    (
        "bad quiet_hours",
        "schedule:\n  quiet_hours: 21h-7h\n" + AGENCY,
        "schedule.quiet_hours",
        2,
        '"HH:MM-HH:MM"',
    ),
    (
        "empty quiet_hours",
        "schedule:\n  quiet_hours: '07:00-07:00'\n" + AGENCY,
        "schedule.quiet_hours",
        2,
        "the same",
    ),
    (
        "bad apology_at",
        "schedule:\n  apology_at: '5pm'\n" + AGENCY,
        "schedule.apology_at",
        2,
        '"HH:MM"',
    ),
    (
        "apology_at out of range",
        "schedule:\n  apology_at: 25:30\n" + AGENCY,
        "schedule.apology_at",
        2,
        "got '25:30'",
    ),
    (
        "impossible holiday",
        "schedule:\n  holidays: [2026-02-30]\n" + AGENCY,
        "schedule.holidays[0]",
        2,
        "day is out of range",
    ),
    (
        "holiday in dd/mm/yyyy",
        "schedule:\n  holidays:\n    - '02/09/2026'\n" + AGENCY,
        "schedule.holidays[0]",
        3,
        "YYYY-MM-DD",
    ),
    (
        "working day in dd/mm/yyyy",
        "schedule:\n  working_days:\n    - '22/08/2026'\n" + AGENCY,
        "schedule.working_days[0]",
        3,
        "YYYY-MM-DD",
    ),
    (
        "a day both off and worked",
        "schedule:\n  holidays: ['2026-11-20']\n  working_days: ['2026-11-14..2026-11-21']\n"
        + AGENCY,
        "schedule.working_days",
        3,
        "2026-11-20 is also in schedule.holidays",
    ),
    (
        "every day weekend",
        "schedule:\n  weekend: [0, 1, 2, 3, 4, 5, 6]\n" + AGENCY,
        "schedule.weekend",
        2,
        "no working day",
    ),
    (
        "ttl twice",
        "retry:\n  ttl: 3600\n  ttl_hours: 1\n" + AGENCY,
        "retry.ttl_hours",
        3,
        "not both",
    ),
    (
        "unknown notice kind",
        AGENCY + "    notices: [result, reciept]\n",
        "agencies.SCT.notices[1]",
        4,
        "did you mean 'receipt'?",
    ),
    (
        "bad diacritics",
        AGENCY + "    diacritics: remove\n",
        "agencies.SCT.diacritics",
        4,
        "must be strip or keep, got 'remove'",
    ),
    (
        "yes-no where a boolean is quoted",
        AGENCY + "    skip_same_day: 'yes'\n",
        "agencies.SCT.skip_same_day",
        4,
        "true or false",
    ),
    (
        "unknown template placeholder",
        AGENCY + "    templates:\n      result: 'Hồ sơ {receipt_no} của {ten}'\n",
        "agencies.SCT.templates.result",
        5,
        "unknown placeholder {ten}",
    ),
    (
        "malformed template",
        AGENCY + "    templates:\n      fee: 'Lệ phí {amount'\n",
        "agencies.SCT.templates.fee",
        5,
        "malformed template",
    ),
    (
        "template with a format spec",
        AGENCY + "    templates:\n      apology: 'Hẹn {due_date:%d/%m}'\n",
        "agencies.SCT.templates.apology",
        5,
        "no conversion or format spec",
    ),
    (
        "agency code with a slash",
        "agencies:\n  SCT/KH:\n    name: x\n",
        "agencies.SCT/KH",
        2,
        "MQTT topics",
    ),
    (
        "all-digit agency code unquoted",
        "agencies:\n  000:\n    name: x\n",
        "agencies.000",
        2,
        'quote it: "000"',
    ),
    ("agency without a name", "agencies:\n  SCT:\n", "agencies.SCT.name", 2, "needs a name"),
    ("no agencies", "timezone: Asia/Ho_Chi_Minh\n", "agencies", None, "at least one agency"),
    ("empty agencies", "agencies: {}\n", "agencies", 1, "at least one agency"),
    (
        "keyword twice in different case",
        AGENCY + "keywords:\n  mckh: mckh\n  MCKH: mckh\n",
        "keywords.MCKH",
        6,
        "same keyword as on line 5",
    ),
    (
        "handler not a module name",
        AGENCY + "keywords:\n  MCKH: handlers/mckh.py\n",
        "keywords.MCKH",
        5,
        "handler module",
    ),
    (
        "handler module that does not exist",
        AGENCY + "keywords:\n  MCKH: mckh\n  TRA: tracuu\n",
        "keywords.TRA",
        6,
        "no handler module handlers/tracuu.py",
    ),
    (
        "mo rate limit zero",
        AGENCY + "mo:\n  rate_limit: 0\n",
        "mo.rate_limit",
        5,
        "must be",
    ),
    ("duplicate key", "smpp:\n  window: 1\n  window: 2\n" + AGENCY, "smpp.window", 3, "line 2"),
    (
        "missing password file",
        "smpp:\n  password_file: /nonexistent/smpp-password\n" + AGENCY,
        "smpp.password_file",
        2,
        "cannot read /nonexistent/smpp-password",
    ),
    (
        "yaml syntax error",
        "smpp:\n  shortcodes: ['8083'\n" + AGENCY,
        "",
        3,
        "YAML syntax error",
    ),
    ("tab indentation", "smpp:\n\twindow: 10\n" + AGENCY, "", 2, "YAML syntax error"),
    ("empty file", "", "", None, "the file is empty"),
    ("comments only", "# nothing yet\n", "", None, "the file is empty"),
    ("not a mapping", "- smpp\n- agencies\n", "", 1, "must be a mapping of sections"),
    (
        "python tag",
        "smpp:\n  host: !!python/object/apply:os.system ['true']\n" + AGENCY,
        "smpp.host",
        2,
        "YAML tag",
    ),
    (
        "python tag on a scalar",
        "smpp:\n  host: !!python/name:os.system x\n" + AGENCY,
        "smpp.host",
        2,
        "YAML tag",
    ),
]


class TestRejections:
    @pytest.mark.parametrize(
        ("text", "key", "line", "fragment"),
        [case[1:] for case in BAD_FILES],
        ids=[case[0] for case in BAD_FILES],
    )
    def test_bad_file_names_key_and_line(self, text: str, key: str, line: int, fragment: str):
        """Each mistake stops start-up with the dotted key, the line and what to do."""
        error = refusal(text)

        assert (key, line) == (error.key, error.line)
        assert fragment in error.message

    def test_message_reads_file_line_key_message(self):
        """str() is `FILE:LINE: KEY: MESSAGE`, the form editors and grep understand."""
        error = refusal("smpp:\n  window: ten\n" + AGENCY)

        assert (
            str(error)
            == "/etc/motcua-sms/gateway.yaml:2: smpp.window: must be a positive integer, got 'ten'"
        )

    def test_text_without_a_file_names_the_line(self):
        """parse_config without a path still says where."""
        with pytest.raises(ConfigError) as info:
            parse_config("smpp:\n  window: ten\n" + AGENCY, env={})

        assert str(info.value) == "line 2: smpp.window: must be a positive integer, got 'ten'"

    def test_missing_file_is_a_config_error(self, tmp_path: Path):
        """A path that does not exist is reported as such, not as a traceback."""
        missing = tmp_path / "gateway.yaml"

        with pytest.raises(ConfigError) as info:
            load_config(missing, env={})

        assert str(missing) == info.value.path
        assert "cannot read the file" in str(info.value)

    def test_non_utf8_file_names_the_line(self, tmp_path: Path):
        """A file saved in a legacy encoding (TCVN3, Windows-1258) is caught with its line."""
        path = tmp_path / "gateway.yaml"
        path.write_bytes(b"agencies:\n  SCT:\n    name: S\xf5 C\xf4ng Th\xfd\xf4ng\n")

        with pytest.raises(ConfigError) as info:
            load_config(path, env={})

        assert info.value.line == 3
        assert "UTF-8" in info.value.message

    def test_secret_is_not_echoed_when_its_type_is_wrong(self):
        """An unquoted numeric password is refused without printing it."""
        error = refusal("smpp:\n  password: 73519246\n" + AGENCY)

        assert error.key == "smpp.password"
        assert "quote it" in error.message
        assert "73519246" not in str(error)

    def test_syntax_error_does_not_quote_the_file(self):
        """YAML's own error text shows the offending line; ours leaves it out (secrets)."""
        error = refusal("smpp:\n  password: [s3cr3t-Pa55\n" + AGENCY)

        assert "s3cr3t-Pa55" not in str(error)

    def test_unknown_agency_key_lists_suggestion(self):
        """A typo inside an agency gets the close match."""
        error = refusal("agencies:\n  SCT:\n    nme: Sở Công Thương\n")

        assert error.key == "agencies.SCT.nme"
        assert "did you mean 'name'?" in error.message


class TestYamlTraps:
    def test_unquoted_time_is_read_as_written(self):
        """`apology_at: 17:30` is base-60 1050 to YAML; the gateway reads 17:30."""
        config = parse("schedule:\n  apology_at: 17:30\n" + AGENCY)

        assert time(17, 30) == config.schedule.apology_at

    @pytest.mark.parametrize("value", ["off", "'off'", "null", "false", "no"])
    def test_quiet_hours_can_be_switched_off(self, value: str):
        """off, null and YAML's boolean readings of off/no all mean no quiet hours."""
        config = parse(f"schedule:\n  quiet_hours: {value}\n" + AGENCY)

        assert config.schedule.quiet_hours is None

    def test_quoted_shortcodes_and_sender_are_kept_as_text(self):
        """Quoted digit strings keep their leading zeros."""
        config = parse(
            "smpp:\n  source_addr: '0258123456'\n  shortcodes: ['8083', '1088']\n" + AGENCY
        )

        assert config.smpp.source_addr == "0258123456"
        assert config.smpp.shortcodes == ("8083", "1088")

    def test_quoted_agency_code_of_digits(self):
        """A national-style or all-digit agency code works once quoted."""
        config = parse("agencies:\n  '000':\n    name: x\n  000.00.06.H56:\n    name: y\n")

        assert list(config.agencies) == ["000", "000.00.06.H56"]

    def test_empty_section_means_defaults(self):
        """`mqtt:` with everything below commented out keeps the defaults."""
        config = parse("mqtt:\n#  host: broker\n" + AGENCY)

        assert Config().mqtt == config.mqtt


class TestValues:
    def test_holiday_ranges_cover_each_day(self):
        """ "YYYY-MM-DD..YYYY-MM-DD" is inclusive, for Tết."""
        config = parse("schedule:\n  holidays: ['2026-02-14..2026-02-17', 2026-09-02]\n" + AGENCY)

        assert {
            date(2026, 2, 14),
            date(2026, 2, 15),
            date(2026, 2, 16),
            date(2026, 2, 17),
            date(2026, 9, 2),
        } == config.schedule.holidays

    def test_working_days_are_dates_and_ranges_like_holidays(self):
        """A Saturday worked, or a run of them, in the same syntax as the days off."""
        config = parse(
            "schedule:\n  working_days: [2026-01-10, '2026-03-07..2026-03-08']\n" + AGENCY
        )

        assert {
            date(2026, 1, 10),
            date(2026, 3, 7),
            date(2026, 3, 8),
        } == config.schedule.working_days

    def test_weekend_by_name_or_number(self):
        """An agency open on Saturdays lists only Sunday, by name or as 6."""
        assert frozenset({6}) == parse("schedule:\n  weekend: [sun]\n" + AGENCY).schedule.weekend
        assert frozenset({6}) == parse("schedule:\n  weekend: [6]\n" + AGENCY).schedule.weekend

    def test_status_classes_accept_hex_number_and_name(self):
        """Status keys may be "0x…", a YAML hex number or an ESME_ name."""
        config = parse(
            "smpp:\n  status_classes:\n"
            "    '0x00000045': transient\n    0x58: throttle\n    ESME_RSYSERR: permanent\n"
            + AGENCY
        )

        assert dict(config.smpp.status_classes) == {
            0x45: "transient",
            0x58: "throttle",
            0x08: "permanent",
        }

    def test_ttl_hours_is_converted_to_seconds(self):
        """retry.ttl_hours is the friendlier spelling of retry.ttl."""
        assert parse("retry:\n  ttl_hours: 24\n" + AGENCY).retry.ttl == 24 * 3600

    def test_keywords_are_upper_cased_and_replace_the_defaults(self):
        """The keywords section is the whole table; keywords match in any case."""
        config = parse(AGENCY + "keywords:\n  mckh: mckh\n  tra: mckh\n")

        assert dict(config.keywords) == {"MCKH": "mckh", "TRA": "mckh"}

    def test_kind_template_may_use_dossier_fields(self):
        """A notice override may use any of the dossier fields."""
        text = "TB: Hồ sơ (MS: {receipt_no}) {procedure} tại {agency_name}, hẹn {due_date}"
        config = parse(AGENCY + f"    templates:\n      receipt: '{text}'\n")

        assert text == config.agencies["SCT"].templates["receipt"]

    def test_custom_template_may_use_its_own_fields(self):
        """A named SMS-job template takes whatever parameters the job sends."""
        config = parse(
            AGENCY + "    templates:\n      fee: 'Lệ phí {amount} đồng, hạn {deadline}'\n"
        )

        assert "fee" in config.agencies["SCT"].templates

    def test_merge_keys_share_settings_between_agencies(self):
        """YAML anchors and `<<:` work, e.g. one set of templates for several agencies."""
        config = parse(
            "agencies:\n"
            "  SCT: &common\n    name: Sở Công Thương\n    diacritics: keep\n"
            "  STP:\n    <<: *common\n    name: Sở Tư pháp\n"
        )

        assert config.agencies["STP"].diacritics == "keep"
        assert config.agencies["STP"].name == "Sở Tư pháp"


class TestStorePath:
    def test_relative_store_path_is_beside_the_config_file(self, tmp_path: Path, monkeypatch):
        """As password_file and the TLS files are: not the directory the daemon (or a
        report) happens to start in."""
        (tmp_path / "etc").mkdir()
        path = tmp_path / "etc" / "gateway.yaml"
        path.write_text("store:\n  path: state/gateway.db\n" + AGENCY, encoding="utf-8")
        monkeypatch.chdir(tmp_path)

        config = load_config(path, env={})

        assert config.store.path == str(tmp_path / "etc" / "state" / "gateway.db")

    def test_absolute_store_path_is_kept_as_written(self, tmp_path: Path):
        path = tmp_path / "gateway.yaml"
        path.write_text("store:\n  path: /srv/sms/gateway.db\n" + AGENCY, encoding="utf-8")

        assert load_config(path, env={}).store.path == "/srv/sms/gateway.db"

    def test_an_in_memory_store_stays_in_memory(self, tmp_path: Path):
        path = tmp_path / "gateway.yaml"
        path.write_text('store:\n  path: ":memory:"\n' + AGENCY, encoding="utf-8")

        assert load_config(path, env={}).store.path == ":memory:"


class TestSecrets:
    def test_yaml_password_is_used_alone(self):
        """With no environment and no file, the YAML value is the password."""
        config = parse("smpp:\n  password: from-yaml\n" + AGENCY)

        assert config.smpp.password == "from-yaml"

    def test_password_file_wins_over_yaml(self, tmp_path: Path):
        """password_file beats password; only the trailing newline is removed."""
        secret = tmp_path / "smpp-password"
        secret.write_text(" from file \n")

        config = parse(f"smpp:\n  password: from-yaml\n  password_file: {secret}\n" + AGENCY)

        assert config.smpp.password == " from file "

    def test_environment_wins_over_file(self, tmp_path: Path):
        """MOTCUA_SMS_SMPP_PASSWORD beats both, and the file is then not read at all."""
        config = parse(
            "smpp:\n  password: from-yaml\n  password_file: /nonexistent\n" + AGENCY,
            MOTCUA_SMS_SMPP_PASSWORD="from-env",
        )

        assert config.smpp.password == "from-env"

    def test_empty_environment_variable_counts_as_unset(self):
        """`Environment=MOTCUA_SMS_SMPP_PASSWORD=` in a unit does not blank the password."""
        config = parse("smpp:\n  password: from-yaml\n" + AGENCY, MOTCUA_SMS_SMPP_PASSWORD="")

        assert config.smpp.password == "from-yaml"

    def test_mqtt_password_from_environment(self):
        """The MQTT password has its own variable; unset means no password."""
        assert parse(AGENCY).mqtt.password is None
        assert parse(AGENCY, MOTCUA_SMS_MQTT_PASSWORD="mq").mqtt.password == "mq"

    def test_relative_file_is_found_in_credentials_directory(self, tmp_path: Path):
        """systemd LoadCredential=: a relative name is looked up in $CREDENTIALS_DIRECTORY."""
        (tmp_path / "mqtt-password").write_text("from-credentials\n")

        config = parse(
            "mqtt:\n  password_file: mqtt-password\n" + AGENCY,
            CREDENTIALS_DIRECTORY=str(tmp_path),
        )

        assert config.mqtt.password == "from-credentials"

    def test_relative_file_is_found_next_to_the_config(self, tmp_path: Path):
        """Without systemd, a relative name is looked up beside the configuration file."""
        (tmp_path / "smpp-password").write_text("beside\n")
        path = tmp_path / "gateway.yaml"
        path.write_text("smpp:\n  password_file: smpp-password\n" + AGENCY, encoding="utf-8")

        assert load_config(path, env={}).smpp.password == "beside"

    def test_empty_password_file_is_refused(self, tmp_path: Path):
        """An empty secret file is a deployment slip, not an empty password."""
        secret = tmp_path / "smpp-password"
        secret.write_text("\n")

        error = refusal(f"smpp:\n  password_file: {secret}\n" + AGENCY)

        assert (error.key, error.line) == ("smpp.password_file", 2)
        assert "is empty" in error.message


class TestRedacted:
    def test_passwords_are_hidden(self):
        """Every password prints as *** and nothing else from it."""
        config = parse("smpp:\n  password: s3cret-smpp\nmqtt:\n  password: s3cret-mqtt\n" + AGENCY)

        shown = redacted(config)

        assert (shown["smpp"]["password"], shown["mqtt"]["password"]) == ("***", "***")
        assert "s3cret" not in repr(shown)

    def test_unset_passwords_are_none(self):
        """No password configured shows as None, not as ***."""
        shown = redacted(parse(AGENCY))

        assert (shown["smpp"]["password"], shown["mqtt"]["password"]) == (None, None)

    def test_output_reads_back_as_the_same_configuration(self, tmp_path: Path):
        """check-config prints plain YAML-able data that loads to the same settings."""
        (tmp_path / "smpp-password").write_text("x\n")
        (tmp_path / "mqtt-password").write_text("y\n")
        config = load_config(EXAMPLE, env={"CREDENTIALS_DIRECTORY": str(tmp_path)})

        again = parse(yaml.safe_dump(redacted(config), allow_unicode=True))

        assert (
            dataclasses.replace(
                config,
                smpp=dataclasses.replace(config.smpp, password="***"),
                mqtt=dataclasses.replace(config.mqtt, password="***"),
                source_path=again.source_path,
            )
            == again
        )


class TestRedactedDefaults:
    def test_default_config_reads_back(self):
        """The demo's configuration printed by check-config is itself a valid file."""
        config = default_config()

        assert config == parse_config(yaml.safe_dump(redacted(config), allow_unicode=True), env={})


_EXAMPLE_LINES = EXAMPLE.read_text(encoding="utf-8").splitlines()
_FRAGMENTS = [
    " ",
    ":",
    "-",
    "[",
    "]",
    "{",
    "'",
    '"',
    "#",
    "&a",
    "*a",
    "<<: *a",
    "yes",
    "~",
    "0x58",
    "17:30",
    "010",
    "0357123456",
    "\t",
    "!!python/name:os.system",
    "..",
    "\n",
]


@st.composite
def _damaged_example(draw: st.DrawFn) -> str:
    lines = list(_EXAMPLE_LINES)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(lines) - 1))
        line = lines[at]
        edit = draw(st.sampled_from(["insert", "delete_char", "delete_line", "duplicate", "value"]))
        cut = draw(st.integers(0, len(line)))
        if edit == "insert":
            lines[at] = line[:cut] + draw(st.sampled_from(_FRAGMENTS)) + line[cut:]
        elif edit == "delete_char":
            lines[at] = line[:cut] + line[cut + 1 :]
        elif edit == "delete_line":
            del lines[at]
        elif edit == "duplicate":
            lines.insert(at, draw(st.sampled_from(lines)))
        elif ":" in line:
            lines[at] = line.split(":")[0] + ": " + draw(st.sampled_from(_FRAGMENTS))
    return "\n".join(lines)


class TestNeverCrashes:
    @settings(max_examples=300, deadline=None)
    @given(st.text(max_size=200))
    def test_any_text_is_a_config_or_a_config_error(self, text: str):
        """Whatever the file holds, start-up gets a Config or a ConfigError, nothing else."""
        with contextlib.suppress(ConfigError):
            parse_config(text, env={})

    @pytest.mark.slow
    @settings(max_examples=300, deadline=None)
    @given(_damaged_example())
    def test_damaged_example_is_a_config_or_a_config_error(self, text: str):
        """Typical slips in a real file (a lost colon, a stray quote) give a ConfigError."""
        env = {"MOTCUA_SMS_SMPP_PASSWORD": "x", "MOTCUA_SMS_MQTT_PASSWORD": "y"}
        try:
            parse_config(text, env=env)
        except ConfigError as error:
            assert error.message


class TestExample:
    def test_example_file_loads(self, tmp_path: Path):
        """config/gateway.example.yaml is valid as shipped, secrets from credentials."""
        (tmp_path / "smpp-password").write_text("smpp-secret\n")
        (tmp_path / "mqtt-password").write_text("mqtt-secret\n")

        config = load_config(EXAMPLE, env={"CREDENTIALS_DIRECTORY": str(tmp_path)})

        assert str(EXAMPLE) == config.source_path
        assert (config.smpp.password, config.mqtt.password) == ("smpp-secret", "mqtt-secret")
        assert {"SCT", "STP", "000.00.06.H56"} == set(config.agencies)
        # No national dates to copy: Tết comes from the built-in calendar, for any year.
        assert (frozenset(), frozenset()) == (
            config.schedule.holidays,
            config.schedule.working_days,
        )

    def test_example_sets_every_key(self):
        """The example shows operators every setting there is."""
        text = EXAMPLE.read_text(encoding="utf-8")
        config = Config()

        for section in ("smpp", "mqtt", "store", "schedule", "retry", "admin"):
            for f in dataclasses.fields(getattr(config, section)):
                name = {"ttl": "ttl_hours", "password": "password_file"}.get(f.name, f.name)
                assert f"  {name}:" in text, f"{section}.{name} missing from the example"


class TestMqttTls:
    def test_tls_files_relative_to_the_configuration(self, tmp_path: Path):
        for name in ("ca.pem", "client.pem", "client.key"):
            (tmp_path / name).write_text("x")
        path = tmp_path / "gateway.yaml"
        path.write_text(
            "mqtt:\n  tls: {ca_file: ca.pem, cert_file: client.pem, key_file: client.key}\n"
            + AGENCY,
            encoding="utf-8",
        )

        tls = load_config(path, env={}).mqtt.tls

        assert tls is not None
        assert (tls.ca_file, tls.cert_file, tls.key_file) == tuple(
            str(tmp_path / n) for n in ("ca.pem", "client.pem", "client.key")
        )

    def test_no_tls_by_default_or_when_empty(self):
        assert parse(AGENCY).mqtt.tls is None
        assert parse("mqtt:\n  tls:\n" + AGENCY).mqtt.tls is None

    def test_tls_without_ca_file_is_refused(self):
        error = refusal("mqtt:\n  tls: {cert_file: /x}\n" + AGENCY)
        assert (error.key, error.line) == ("mqtt.tls.ca_file", 2)

    def test_key_file_without_cert_file_is_refused(self, tmp_path: Path):
        (tmp_path / "ca.pem").write_text("x")
        error = refusal(f"mqtt:\n  tls: {{ca_file: {tmp_path}/ca.pem, key_file: /k}}\n" + AGENCY)
        assert error.key == "mqtt.tls.cert_file"

    def test_unreadable_ca_file_is_refused_naming_it(self, tmp_path: Path):
        error = refusal(f"mqtt:\n  tls: {{ca_file: {tmp_path}/missing.pem}}\n" + AGENCY)
        assert error.key == "mqtt.tls.ca_file" and "missing.pem" in error.message

    def test_check_config_shows_the_tls_files(self, tmp_path: Path):
        (tmp_path / "ca.pem").write_text("x")
        shown = redacted(parse(f"mqtt:\n  tls: {{ca_file: {tmp_path}/ca.pem}}\n" + AGENCY))
        assert shown["mqtt"]["tls"] == {
            "ca_file": f"{tmp_path}/ca.pem",
            "cert_file": None,
            "key_file": None,
        }
