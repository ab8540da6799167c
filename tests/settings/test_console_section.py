"""The `console:` section: who may log in, with hashes only, and where the console listens."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gateway.cli import main
from gateway.console.auth import hash_password
from gateway.settings.config import Config, ConfigError, parse_config
from gateway.settings.show import redacted

AGENCIES = "agencies:\n  SCT:\n    name: Sở Công Thương\n  STP:\n    name: Sở Tư pháp\n"
HASH = hash_password("mật khẩu của chị An")


def parse(text: str) -> Config:
    return parse_config(AGENCIES + text, path="/etc/motcua-sms/gateway.yaml", env={})


def refusal(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse(text)
    return str(info.value)


def users(*lines: str) -> str:
    return "console:\n  users:\n" + "".join(f"    {line}\n" for line in lines)


def test_without_a_section_the_console_listens_on_loopback_with_nobody_to_log_in():
    console = parse("").console

    assert (console.host, console.users) == ("127.0.0.1", {})


def test_a_supervisor_and_an_agency_user_are_read_with_their_roles():
    supervisor = ("an:", "  role: supervisor", f'  password_hash: "{HASH}"')
    agency = ("binh:", "  role: agency", "  agency: STP", f'  password_hash: "{HASH}"')
    console = parse(users(*supervisor, *agency)).console

    assert console.users["an"].sees("SCT") and console.users["an"].sees("STP")
    assert console.users["binh"].sees("STP") and not console.users["binh"].sees("SCT")


def test_a_plain_password_in_place_of_the_hash_is_refused_and_not_echoed():
    message = refusal(users("an:", "  role: supervisor", "  password_hash: hunter2hunter2"))

    assert "console.users.an.password_hash" in message
    assert "console-password" in message
    assert "hunter2" not in message


def test_an_agency_user_of_an_agency_not_configured_is_refused_naming_it():
    message = refusal(
        users("binh:", "  role: agency", "  agency: SYT", f'  password_hash: "{HASH}"')
    )

    assert "console.users.binh.agency" in message and "'SYT'" in message


def test_an_agency_user_without_an_agency_is_refused():
    message = refusal(users("binh:", "  role: agency", f'  password_hash: "{HASH}"'))

    assert "console.users.binh.agency" in message and "missing" in message


def test_a_supervisor_naming_an_agency_is_refused():
    message = refusal(
        users("an:", "  role: supervisor", "  agency: SCT", f'  password_hash: "{HASH}"')
    )

    assert "console.users.an.agency" in message


def test_an_unknown_role_is_refused_with_the_roles_there_are():
    message = refusal(users("an:", "  role: admin", f'  password_hash: "{HASH}"'))

    assert "supervisor or agency" in message


def test_a_misspelt_console_key_is_refused_with_the_key_meant():
    assert "did you mean 'session_minutes'" in refusal("console:\n  session_minute: 60\n")


def test_check_config_shows_the_console_section_with_hashes_hidden(tmp_path: Path, capsys):
    path = tmp_path / "gateway.yaml"
    text = AGENCIES + users("an:", "  role: supervisor", f'  password_hash: "{HASH}"')
    path.write_text(text + "smpp:\n  password: x\nmqtt:\n  password: y\n", encoding="utf-8")

    assert main(["check-config", "-c", str(path)]) == 0

    out = capsys.readouterr().out
    shown = yaml.safe_load(out)["console"]
    assert shown["users"] == {"an": {"role": "supervisor", "agency": None, "password_hash": "***"}}
    assert HASH not in out and "argon2" not in out


def test_redacted_configuration_never_carries_a_hash():
    config = parse(users("an:", "  role: supervisor", f'  password_hash: "{HASH}"'))

    assert HASH not in repr(redacted(config))


def test_the_reads_the_console_runs_and_queues_at_once_are_read():
    console = parse("console:\n  reads_at_once: 3\n  reads_queued: 40\n").console

    assert (console.reads_at_once, console.reads_queued) == (3, 40)


def test_no_read_at_once_is_refused_naming_the_key():
    assert "console.reads_at_once" in refusal("console:\n  reads_at_once: 0\n")


def _with_params(params: str) -> str:
    return HASH.replace("m=65536,t=3,p=4", params)


@pytest.mark.parametrize("params", ["m=4194304,t=3,p=4", "m=65536,t=21,p=4"])
def test_a_hash_with_absurd_parameters_is_refused_naming_the_key_and_line(params):
    text = users("an:", "  role: supervisor", f'  password_hash: "{_with_params(params)}"')
    message = refusal(text)

    assert "gateway.yaml:10: console.users.an.password_hash" in message
    assert "1 GiB" in message


@pytest.mark.parametrize("params", ["m=65536,t=0,p=4", "m=16,t=3,p=4", "m=65536,t=3,p=0"])
def test_a_hash_with_parameters_argon2_cannot_verify_is_refused(params):
    text = users("an:", "  role: supervisor", f'  password_hash: "{_with_params(params)}"')

    assert "cannot verify" in refusal(text)


def test_a_hash_with_its_salt_or_digest_cut_short_is_refused():
    digest = HASH.rsplit("$", 1)[1]
    text = users("an:", "  role: supervisor", f'  password_hash: "{HASH.replace(digest, "abc")}"')

    assert "not an argon2id hash" in refusal(text)


def test_host_names_are_read_in_lower_case():
    console = parse("console:\n  host_names: [ThongKe.SoTTTT.gov.vn]\n").console

    assert console.host_names == ("thongke.sotttt.gov.vn",)


def test_a_host_name_with_a_port_or_a_path_is_refused_naming_the_key():
    message = refusal("console:\n  host_names: ['thongke.gov.vn:443/x']\n")

    assert "console.host_names" in message and "not a host name" in message


def test_trusted_proxies_are_ip_addresses():
    console = parse("console:\n  trusted_proxies: ['127.0.0.1', '::1']\n").console

    assert console.trusted_proxies == ("127.0.0.1", "::1")


def test_a_trusted_proxy_that_is_no_ip_address_is_refused_naming_the_key():
    message = refusal("console:\n  trusted_proxies: [proxy.example]\n")

    assert "console.trusted_proxies" in message and "not an IP address" in message
