"""A SIGHUP that turns `email: true` on for an agency together with a new `email:` section
(which needs a restart, so the running daemon has no mail sender) leaves the agency's
e-mail off until the restart, rather than queue letters that nothing sends."""

from __future__ import annotations

from gateway.settings.config import Config, parse_config
from gateway.settings.reload import Reload

AGENCY = "agencies:\n  STP:\n    name: Sở Tư pháp\n"
SECTION = "email:\n  host: smtp.hcm.gov.vn\n  from: 'Trung tâm HCC <motcua@hcm.gov.vn>'\n"


def parse(text: str) -> Config:
    return parse_config(text, env={})


def test_an_agency_is_not_given_email_by_a_reload_the_running_daemon_cannot_send():
    running = parse(AGENCY)
    new = parse(SECTION + AGENCY + "    email: true\n")

    change = Reload.of(running, new)

    assert change.needs_restart == ("email",)  # the agency's other changes are applied
    assert change.config.email is None  # kept: no mail sender runs
    assert change.config.agencies["STP"].email is False
