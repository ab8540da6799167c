"""The `smsc:` section: several SMSC links, their routes, and what the file may not say."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.app import encoding
from gateway.cli import main
from gateway.settings.config import ConfigError, parse_config
from gateway.settings.links import DEFAULT_LINK, Route, password_env

PATH = "/etc/motcua-sms/gateway.yaml"
AGENCY = "agencies:\n  SCT: {name: Sở Công Thương}\n"
THREE = (
    AGENCY
    + """\
smsc:
  - id: viettel
    host: 10.0.0.1
    password: v
    binds: 2
    tps: 30
    account_tps: 50
    routes:
      - carrier: Viettel
  - id: vnpt
    host: 10.0.0.2
    routes:
      - carrier: vinaphone
      - prefix: "091"
    reroute: [ESME_RMSGQFUL, "0x45"]
  - id: aggregator
    host: 10.0.0.3
    routes:
      - agency: SCT
      - default: true
"""
)


def refusal(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, path=PATH, env={})
    return str(caught.value)


def test_an_smpp_section_is_the_one_link_default_taking_every_message():
    config = parse_config(AGENCY + "smpp: {host: 10.0.0.9, window: 7}\n", path=PATH, env={})

    (link,) = config.links
    assert (link.id, link.host, link.window, link.binds) == (DEFAULT_LINK, "10.0.0.9", 7, 1)
    assert link.routes == (Route(default=True),)


def test_smsc_links_are_read_in_order_with_their_sessions_caps_and_routes():
    config = parse_config(THREE, path=PATH, env={})

    assert [link.id for link in config.links] == ["viettel", "vnpt", "aggregator"]
    viettel, vnpt, aggregator = config.links
    assert (viettel.binds, viettel.tps, viettel.account_tps) == (2, 30.0, 50.0)
    assert viettel.routes == (Route(carrier="viettel"),)
    assert vnpt.routes == (Route(carrier="vinaphone"), Route(prefix="8491"))
    assert vnpt.reroute == frozenset({0x14, 0x45})
    assert aggregator.routes == (Route(agency="SCT"), Route(default=True))
    assert config.smpp is viettel  # brandname, receipt timeout, encoding: the first link's


def test_a_links_password_comes_from_its_own_environment_variable():
    config = parse_config(THREE, path=PATH, env={"MOTCUA_SMS_SMSC_VNPT_PASSWORD": "from-env"})

    assert [link.password for link in config.links] == ["v", "from-env", ""]
    assert password_env("viettel-2") == "MOTCUA_SMS_SMSC_VIETTEL_2_PASSWORD"


def test_a_link_id_used_twice_is_refused_naming_the_second():
    text = AGENCY + "smsc:\n  - id: a\n  - id: a\n    routes: [{default: true}]\n"

    assert refusal(text) == (f"{PATH}:5: smsc[1].id: link id 'a' is used twice (links 0 and 1)")


@pytest.mark.parametrize("first,second", [("viettel-2", "viettel_2"), ("Viettel", "viettel")])
def test_two_link_ids_sharing_one_password_variable_are_refused_naming_the_second(
    first: str, second: str
):
    """Distinct ids, one variable (MOTCUA_SMS_SMSC_VIETTEL_2_PASSWORD): one carrier's
    password would be sent in the other carrier's bind_transceiver."""
    text = AGENCY + (
        f"smsc:\n  - id: {first}\n    routes: [{{carrier: viettel}}]\n"
        f"  - id: {second}\n    routes: [{{default: true}}]\n"
    )
    env = {password_env(first): "vt"}

    with pytest.raises(ConfigError) as caught:
        parse_config(text, path=PATH, env=env)
    assert str(caught.value).startswith(
        f"{PATH}:6: smsc[1].id: link id {second!r} reads its password from "
        f"{password_env(first)}, as link {first!r} (link 0) does"
    )


def test_an_unknown_route_key_is_refused_with_its_line():
    text = AGENCY + "smsc:\n  - id: a\n    routes:\n      - carier: viettel\n"

    assert refusal(text).startswith(f"{PATH}:6: smsc[0].routes[0].carier: unknown key")


def test_links_without_a_default_route_are_refused():
    text = AGENCY + "smsc:\n  - id: a\n    routes:\n      - carrier: viettel\n"

    error = refusal(text)
    assert error.startswith(f"{PATH}:6: smsc[0].routes: no link has `default: true`")


def test_smpp_and_smsc_together_are_refused():
    text = AGENCY + "smpp: {host: x}\nsmsc:\n  - id: a\n"

    assert refusal(text).startswith(f"{PATH}:5: smsc: give either `smpp:`")


def test_an_unknown_carrier_is_refused_with_the_carriers_known():
    text = AGENCY + "smsc:\n  - id: a\n    routes:\n      - carrier: vietel\n      - default: 1\n"

    error = refusal(text)
    assert error.startswith(f"{PATH}:6: smsc[0].routes[0].carrier: unknown carrier 'vietel'")
    assert "did you mean 'viettel'?" in error


def test_a_route_for_an_unknown_agency_is_refused():
    text = AGENCY + "smsc:\n  - id: a\n    routes:\n      - agency: STP\n      - default: true\n"

    assert refusal(text).startswith(f"{PATH}:6: smsc[0].routes[0].agency: unknown agency 'STP'")


def test_a_prefix_that_is_not_a_vietnamese_number_is_refused():
    text = AGENCY + 'smsc:\n  - id: a\n    routes:\n      - prefix: "1900"\n      - default: true\n'

    assert "must start with 84 or 0" in refusal(text)


def test_a_link_without_an_id_is_refused():
    assert refusal(AGENCY + "smsc:\n  - host: a\n").startswith(
        f"{PATH}:4: smsc[0].id: missing: every link needs an id"
    )


def test_check_config_shows_the_routing_table_and_reads_back(tmp_path: Path, capsys):
    path = tmp_path / "gateway.yaml"
    path.write_text(THREE, encoding="utf-8")

    assert main(["check-config", "-c", str(path)]) == 0
    out = capsys.readouterr().out
    table = [line for line in out.splitlines() if line.startswith("#   ")]
    assert [line.split("->")[1].split()[0] for line in table[:5]] == [
        "viettel", "vnpt", "vnpt", "aggregator", "aggregator",
    ]  # fmt: skip
    assert "carrier=viettel" in table[0] and "prefix=8491" in table[2] and "default" in table[4]
    again = tmp_path / "again.yaml"
    again.write_text(out, encoding="utf-8")
    assert parse_config(out, path=str(again), env={}).links[1].routes[1] == Route(prefix="8491")


def test_the_readmes_three_carrier_configuration_is_valid(tmp_path: Path):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("A three-carrier configuration:\n\n```yaml\n")[1].split("```")[0]
    (tmp_path / "viettel.pass").write_text("secret\n", encoding="utf-8")
    agencies = "agencies:\n  SCT: {name: Sở Công Thương}\n  STP: {name: Sở Tư pháp}\n"

    config = parse_config(agencies + block, path=str(tmp_path / "gateway.yaml"), env={})

    assert [(link.id, link.binds) for link in config.links] == [
        ("viettel", 4), ("vinaphone", 2), ("mobifone", 1),
    ]  # fmt: skip
    assert config.links[0].password == "secret"


def test_a_reroute_status_the_session_absorbs_is_refused():
    text = AGENCY + "smsc:\n  - id: a\n    reroute: [ESME_RTHROTTLED]\n"

    error = refusal(text)
    assert error.startswith(f"{PATH}:5: smsc[0].reroute: ESME_RTHROTTLED is classed 'throttle'")


def test_a_later_link_giving_another_encoding_than_the_first_is_refused_with_its_line():
    """The sender cuts, and the composer counts, every link's parts with the first link's
    encoding: another `ref16` or `default_alphabet` on a later link would be shown as
    that link's and ignored."""
    text = AGENCY + (
        "smsc:\n  - id: viettel\n    routes: [{carrier: viettel}]\n"
        "  - id: vnpt\n    ref16: true\n    default_alphabet: latin1\n"
        "    routes: [{default: true}]\n"
    )

    error = refusal(text)
    assert error.startswith(f"{PATH}:7: smsc[1].ref16: True differs from the first link's")
    assert "give it on the first link only" in error


def test_a_later_link_giving_another_receipt_timeout_than_the_first_is_refused():
    text = AGENCY + (
        "smsc:\n  - id: viettel\n    receipt_timeout: 3600\n    routes: [{carrier: viettel}]\n"
        "  - id: vnpt\n    receipt_timeout: 60\n    routes: [{default: true}]\n"
    )

    assert refusal(text).startswith(f"{PATH}:8: smsc[1].receipt_timeout: 60")


def test_later_links_take_the_first_links_encoding_and_receipt_timeout():
    text = AGENCY + (
        "smsc:\n  - id: viettel\n    ref16: true\n    default_alphabet: latin1\n"
        "    receipt_timeout: 3600\n    routes: [{carrier: viettel}]\n"
        "  - id: vnpt\n    ref16: true\n    routes: [{default: true}]\n"
    )

    config = parse_config(text, path=PATH, env={})

    vnpt = config.links[1]
    assert (vnpt.ref16, vnpt.default_alphabet, vnpt.receipt_timeout) == (True, "latin1", 3600)
    used = encoding(config)
    assert (used.ref16, used.alphabet) == (True, "latin1")


def test_check_config_warns_of_routes_that_can_never_choose_their_link_first(
    tmp_path: Path, capsys
):
    """Routes after a `default: true` never choose their link first: the same link's
    later routes match nothing the default did not take, and a later link takes messages
    only when an earlier one fails over. Accepted (a backup link may be meant), warned of."""
    path = tmp_path / "gateway.yaml"
    path.write_text(
        AGENCY + "smsc:\n  - id: viettel\n    routes: [{default: true}, {carrier: viettel}]\n"
        "  - id: backup\n    routes: [{carrier: vinaphone}]\n",
        encoding="utf-8",
    )

    assert main(["check-config", "-c", str(path)]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert warnings == [
        "motcua-sms: warning: smsc[0] 'viettel': the 1 route(s) after its `default: true` "
        "(routes[0]) never match first: the default took the message already",
        "motcua-sms: warning: smsc[1] 'backup': after the `default: true` of 'viettel', its "
        "routes never choose it first; it takes messages only when an earlier link fails over",
    ]


def test_check_config_warns_of_nothing_when_the_default_comes_last(tmp_path: Path, capsys):
    path = tmp_path / "gateway.yaml"
    path.write_text(THREE, encoding="utf-8")

    assert main(["check-config", "-c", str(path)]) == 0
    assert "never" not in capsys.readouterr().err
