"""The topic filters intake subscribes to, alone and shared with other daemons."""

from __future__ import annotations

from gateway.intake.serving import intake_filters


def test_a_daemon_alone_subscribes_to_every_agencys_dossiers_and_jobs():
    assert intake_filters("motcua", None) == ["motcua/+/dossier", "motcua/+/sms"]


def test_shared_intake_subscribes_the_groups_share_of_the_same_filters():
    assert intake_filters("motcua", "hcm") == [
        "$share/hcm/motcua/+/dossier",
        "$share/hcm/motcua/+/sms",
    ]
