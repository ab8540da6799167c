"""The `email:` section and the agencies' e-mail keys: defaults, every refusal (key and
line named), the password's sources, and check-config never showing it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from gateway.cli import main
from gateway.settings.config import Config, ConfigError, parse_config
from gateway.settings.mail import EMAIL_PASSWORD_ENV
from gateway.settings.show import redacted

PATH = "/etc/motcua-sms/gateway.yaml"
AGENCY = "agencies:\n  STP:\n    name: Sở Tư pháp\n"
MAILING = "agencies:\n  STP:\n    name: Sở Tư pháp\n    email: true\n"
SECTION = "email:\n  host: smtp.hcm.gov.vn\n  from: 'Trung tâm HCC <motcua@hcm.gov.vn>'\n"


def parse(text: str, path: str = PATH, **env: str) -> Config:
    return parse_config(text, path=path, env=env)


def refusal(text: str, **env: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse(text, **env)
    return info.value


class TestDefaults:
    def test_without_the_section_email_is_off(self):
        config = parse(AGENCY)

        assert config.email is None
        assert (config.agencies["STP"].email, config.agencies["STP"].email_from) == (False, None)

    def test_an_empty_section_is_email_off(self):
        assert parse("email:\n" + AGENCY).email is None

    def test_a_section_of_host_and_from_uses_starttls_on_587_with_a_30_second_timeout(self):
        mail = parse(SECTION + AGENCY).email

        assert mail is not None
        assert (mail.host, mail.port, mail.security, mail.timeout) == (
            "smtp.hcm.gov.vn",
            587,
            "starttls",
            30.0,
        )
        assert (mail.ca_file, mail.username, mail.password) == (None, None, None)
        assert mail.sender == "Trung tâm HCC <motcua@hcm.gov.vn>"

    @pytest.mark.parametrize(
        ("security", "host", "port"),
        [("starttls", "smtp.hcm.gov.vn", 587), ("tls", "smtp.hcm.gov.vn", 465),
         ("none", "127.0.0.1", 25)],
    )  # fmt: skip
    def test_the_port_defaults_to_the_security_s_port(self, security, host, port):
        text = f"email:\n  host: {host}\n  security: {security}\n  from: a@b.vn\n" + AGENCY

        mail = parse(text).email

        assert mail is not None and mail.port == port

    def test_a_port_written_is_kept(self):
        mail = parse(SECTION + "  port: 2525\n" + AGENCY).email

        assert mail is not None and mail.port == 2525

    @pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.53", "::1", "localhost", "LOCALHOST"])
    def test_security_none_is_taken_for_a_relay_on_this_machine(self, host):
        text = f"email:\n  host: '{host}'\n  security: none\n  from: a@b.vn\n" + AGENCY

        mail = parse(text).email

        assert mail is not None and mail.security == "none"

    def test_an_agency_mailing_without_its_own_from_uses_the_section_s(self):
        agency = parse(SECTION + MAILING).agencies["STP"]

        assert (agency.email, agency.email_from) == (True, "Trung tâm HCC <motcua@hcm.gov.vn>")

    def test_an_agency_s_own_from_is_kept(self):
        text = SECTION + MAILING + "    email_from: 'Sở Tư pháp <stp@hcm.gov.vn>'\n"

        assert parse(text).agencies["STP"].email_from == "Sở Tư pháp <stp@hcm.gov.vn>"

    def test_a_relative_ca_file_is_the_config_directory_s(self, tmp_path: Path):
        (tmp_path / "smtp-ca.pem").write_text("x")
        text = SECTION + "  ca_file: smtp-ca.pem\n" + AGENCY

        mail = parse(text, path=str(tmp_path / "gateway.yaml")).email

        assert mail is not None and mail.ca_file == str(tmp_path / "smtp-ca.pem")


class TestPassword:
    LOGIN = SECTION + "  username: motcua-sms\n"

    def test_the_environment_wins_over_the_file_and_the_yaml(self, tmp_path: Path):
        (tmp_path / "pw").write_text("from-file\n")
        text = self.LOGIN + f"  password: from-yaml\n  password_file: {tmp_path / 'pw'}\n"

        mail = parse(text + AGENCY, **{EMAIL_PASSWORD_ENV: "from-env"}).email

        assert mail is not None and mail.password == "from-env"

    def test_a_password_file_in_the_credentials_directory_wins_over_the_yaml(self, tmp_path: Path):
        (tmp_path / "smtp-password").write_text("from-file\n")
        text = self.LOGIN + "  password: from-yaml\n  password_file: smtp-password\n"

        mail = parse(text + AGENCY, CREDENTIALS_DIRECTORY=str(tmp_path)).email

        assert mail is not None and mail.password == "from-file"

    def test_an_empty_password_file_is_refused(self, tmp_path: Path):
        (tmp_path / "pw").write_text("\n")

        error = refusal(self.LOGIN + f"  password_file: {tmp_path / 'pw'}\n" + AGENCY)

        assert (error.key, error.line) == ("email.password_file", 5)
        assert error.message.endswith("is empty")

    def test_a_password_that_is_not_text_is_refused_without_showing_it(self):
        error = refusal(self.LOGIN + "  password: 20261122\n" + AGENCY)

        assert error.key == "email.password"
        assert "20261122" not in str(error)

    def test_a_login_without_a_password_is_refused_naming_its_sources(self):
        error = refusal(self.LOGIN + AGENCY)

        assert error.key == "email.password"
        assert EMAIL_PASSWORD_ENV in error.message and "password_file" in error.message

    def test_a_password_without_a_username_is_refused(self):
        error = refusal(SECTION + "  password: pw\n" + AGENCY)

        assert (error.key, error.message) == (
            "email.username",
            "missing: a password is given, for a login with no username",
        )


class TestRefusals:
    def test_a_section_without_host_is_refused(self):
        error = refusal("email:\n  from: a@b.vn\n" + AGENCY)

        assert (error.key, error.line) == ("email.host", 1)
        assert error.message.startswith("missing: the SMTP server")

    def test_a_section_without_from_is_refused(self):
        error = refusal("email:\n  host: smtp.hcm.gov.vn\n" + AGENCY)

        assert error.key == "email.from"
        assert error.message.startswith("missing: the From address")

    @pytest.mark.parametrize(
        ("written", "reason"),
        [
            ("motcua", 'must be an address, or "Name <address>"'),
            ("motcua@@hcm.gov.vn", "not a usable address: must contain exactly one '@'"),
            ("motcua@hcm", "the domain has no '.'"),
            ("'Sở Tư pháp'", 'must be an address, or "Name <address>"'),
            ("'Sở, Ban <a@b.vn>'", "the name may not contain quotes"),
            ("5", "must be text"),
        ],
    )
    def test_a_bad_from_is_refused_with_the_address_check_s_reason(self, written, reason):
        error = refusal(f"email:\n  host: smtp.hcm.gov.vn\n  from: {written}\n" + AGENCY)

        assert (error.key, error.line) == ("email.from", 3)
        assert reason in error.message, error.message

    def test_a_typo_of_a_key_is_refused_with_the_key_meant(self):
        error = refusal(SECTION + "  securty: tls\n" + AGENCY)

        assert (error.key, error.line) == ("email.securty", 4)
        assert error.message == "unknown key; did you mean 'security'?"

    def test_the_field_name_behind_from_is_not_a_key_of_the_file(self):
        error = refusal(SECTION + "  sender: a@b.vn\n" + AGENCY)

        assert error.key == "email.sender"
        assert error.message.startswith("unknown key; known keys: ca_file, from, host")

    def test_an_unknown_security_is_refused_with_the_choices(self):
        error = refusal(SECTION + "  security: ssl\n" + AGENCY)

        assert (error.key, error.line) == ("email.security", 4)
        assert error.message.startswith("must be one of starttls, tls, none, got 'ssl'")

    @pytest.mark.parametrize("host", ["smtp.hcm.gov.vn", "10.0.0.5", "127.0.0.1.example.com"])
    def test_security_none_to_another_machine_is_refused_with_the_reason(self, host):
        error = refusal(f"email:\n  host: {host}\n  security: none\n  from: a@b.vn\n" + AGENCY)

        assert (error.key, error.line) == ("email.security", 3)
        assert "clear text" in error.message and "use starttls or tls" in error.message

    @pytest.mark.parametrize(("key", "value"), [("port", "0"), ("port", "70000"), ("port", "x")])
    def test_a_port_out_of_range_is_refused(self, key, value):
        assert refusal(SECTION + f"  {key}: {value}\n" + AGENCY).key == "email.port"

    @pytest.mark.parametrize("value", ["0", "-1", "soon"])
    def test_a_timeout_that_is_not_a_positive_number_is_refused(self, value):
        error = refusal(SECTION + f"  timeout: {value}\n" + AGENCY)

        assert (error.key, error.line) == ("email.timeout", 4)

    def test_an_unreadable_ca_file_is_refused_at_loading(self):
        error = refusal(SECTION + "  ca_file: /nonexistent/smtp-ca.pem\n" + AGENCY)

        assert (error.key, error.line) == ("email.ca_file", 4)
        assert error.message.startswith("cannot read /nonexistent/smtp-ca.pem")


class TestAgencies:
    def test_an_agency_mailing_without_the_section_is_refused_naming_its_key(self):
        error = refusal(MAILING)

        assert (error.key, error.line) == ("agencies.STP.email", 4)
        assert "there is no `email:` section" in error.message

    def test_an_agency_s_bad_from_is_refused(self):
        error = refusal(SECTION + MAILING + "    email_from: stp.hcm.gov.vn\n")

        assert (error.key, error.line) == ("agencies.STP.email_from", 8)
        assert error.message == 'must be an address, or "Name <address>"'

    def test_an_agency_s_email_must_be_a_boolean(self):
        error = refusal(SECTION + AGENCY + "    email: 'yes'\n")

        assert error.key == "agencies.STP.email"
        assert error.message.startswith("must be true or false")


class TestShown:
    TEXT = SECTION + "  username: motcua-sms\n  password: s3cret-smtp\n" + MAILING

    def test_the_password_is_shown_as_stars(self):
        shown = redacted(parse(self.TEXT))

        assert shown["email"]["password"] == "***"
        assert "s3cret-smtp" not in repr(shown)

    def test_the_section_is_shown_with_its_file_keys(self):
        shown = redacted(parse(self.TEXT))["email"]

        assert shown == {
            "host": "smtp.hcm.gov.vn",
            "port": 587,
            "security": "starttls",
            "ca_file": None,
            "username": "motcua-sms",
            "password": "***",
            "from": "Trung tâm HCC <motcua@hcm.gov.vn>",
            "timeout": 30.0,
        }

    def test_the_agency_s_email_keys_are_shown(self):
        agency = redacted(parse(self.TEXT))["agencies"]["STP"]

        assert (agency["email"], agency["email_from"]) == (
            True,
            "Trung tâm HCC <motcua@hcm.gov.vn>",
        )

    def test_the_output_reads_back_as_the_same_configuration(self):
        config = parse(self.TEXT)

        again = parse(yaml.safe_dump(redacted(config), allow_unicode=True))

        assert config.email is not None
        assert again == dataclasses.replace(
            config,
            email=dataclasses.replace(config.email, password="***"),
            source_path=again.source_path,
        )

    def test_e_mail_off_is_shown_as_none(self):
        assert redacted(parse(AGENCY))["email"] is None

    def test_check_config_never_prints_the_password(self, tmp_path: Path, capsys):
        path = tmp_path / "gateway.yaml"
        path.write_text(self.TEXT, encoding="utf-8")

        assert main(["check-config", "-c", str(path)]) == 0

        out = capsys.readouterr()
        assert "s3cret-smtp" not in out.out + out.err
        assert "smtp.hcm.gov.vn" in out.out
