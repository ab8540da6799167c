"""Configuration mistakes in `smsc:` that load without a word."""

from __future__ import annotations

from gateway.app import encoding
from gateway.settings.config import ConfigError, parse_config

PATH = "/etc/motcua-sms/gateway.yaml"
AGENCY = "agencies:\n  SCT: {name: Sở Công Thương}\n"


def test_encoding_keys_of_a_later_link_are_not_silently_ignored():
    """`ref16`/`default_alphabet` on the second link load, are printed by check-config as
    that link's, and are ignored: the sender cuts and counts every link's parts with the
    first link's encoding (app.encoding reads config.smpp = smsc[0])."""
    text = AGENCY + (
        "smsc:\n  - id: viettel\n    routes: [{carrier: viettel}]\n"
        "  - id: vnpt\n    ref16: true\n    default_alphabet: latin1\n"
        "    routes: [{default: true}]\n"
    )
    try:
        config = parse_config(text, path=PATH, env={})
    except ConfigError:
        return  # refused: fine
    vnpt = config.links[1]
    assert (vnpt.ref16, vnpt.default_alphabet) == (True, "latin1")
    used = encoding(config)
    assert (used.ref16, used.alphabet) == (True, "latin1"), used
