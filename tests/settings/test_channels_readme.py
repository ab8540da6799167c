"""README's examples of the `zalo:` and `email:` sections are configurations that load."""

from __future__ import annotations

from pathlib import Path

from gateway.domain.channel import Channel
from gateway.settings.config import parse_config

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
SECTION = README.split("## Zalo and e-mail beside SMS")[1].split("\n## ")[0]


def blocks() -> list[str]:
    return [part.split("```")[0] for part in SECTION.split("```yaml\n")[1:]]


def test_the_readmes_zalo_example_loads(tmp_path):
    zalo, _ = blocks()
    for name, secret in (("zalo-app.key", "app"), ("zalo-oa.key", "oa")):
        (tmp_path / name).write_text(secret + "\n", encoding="utf-8")
    token = tmp_path / "token"
    token.write_text("first\n", encoding="utf-8")
    text = zalo.replace("/var/lib/motcua-sms/zalo-refresh-token", str(token))

    config = parse_config(text, path=str(tmp_path / "gateway.yaml"), env={})

    assert config.agencies["SNV"].channels == (Channel.ZALO, Channel.SMS)
    assert config.zalo is not None and sorted(config.zalo.templates) == ["receipt", "result"]
    assert config.zalo.secret_key == "app"


def test_the_readmes_email_example_loads(tmp_path):
    _, email = blocks()
    (tmp_path / "smtp.pass").write_text("secret\n", encoding="utf-8")

    config = parse_config(email, path=str(tmp_path / "gateway.yaml"), env={})

    assert config.email is not None and config.email.password == "secret"
    assert config.agencies["SNV"].email_from == "Sở Ngoại vụ <motcua@snv.quangbinh.gov.vn>"
