"""What the dispatcher says comes from the handlers: syntax, guides, outcomes.

The dispatcher knows no keyword. The not-understood reply offers the syntax of each
service handler; a handler whose OUTCOME is `help` is a guide to the others (not offered,
not listed, logged as `help`), whatever its module is called. MOs go through the real
simulator, session, store and sender (the rig of test_dispatcher.py).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from types import MappingProxyType

import pytest

import handlers
from gateway.mo.registry import HandlerError, load_handlers
from gateway.settings.config import Config, default_config
from tests.support.mo import dossier, running
from tests.support.store_reads import db_rows

GUIDE = """
from gateway.mo.api import Context, Outcome, Reply, Request

SYNTAX = "HUONGDAN"
PURPOSE = "huong dan su dung"
OUTCOME = Outcome.HELP


async def handle(request: Request, context: Context) -> Reply:
    return Reply("Dich vu: " + "; ".join(s.syntax for s in context.services))
"""

HOURS = """
from gateway.mo.api import Context, Reply, Request

SYNTAX = "GIO"
PURPOSE = "gio lam viec"


async def handle(request: Request, context: Context) -> Reply:
    return Reply("Lam viec tu 7h30 den 17h00.")
"""


@pytest.fixture
def more_handlers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Write handler modules into a directory that `handlers` also imports from."""
    extra = tmp_path / "more_handlers"
    extra.mkdir()
    monkeypatch.setattr(handlers, "__path__", [*handlers.__path__, str(extra)])

    def add(name: str, source: str) -> None:
        (extra / f"{name}.py").write_text(source, encoding="utf-8")
        monkeypatch.delitem(sys.modules, f"handlers.{name}", raising=False)

    return add


def with_keywords(**keywords: str) -> Config:
    return dataclasses.replace(default_config(), keywords=MappingProxyType(keywords))


async def test_a_guide_is_not_offered_as_the_syntax_whatever_its_module_is_called(
    tmp_path, store_location, more_handlers
):
    more_handlers("huongdan", GUIDE)
    more_handlers("giogiac", HOURS)
    cfg = with_keywords(HUONGDAN="huongdan", GIO="giogiac")

    async with running(store_location, cfg) as rig:
        await rig.mo("xin chao")
        reply = await rig.reply()

    assert reply.text == "Tin nhan chua dung cu phap. Soan: GIO gui 8083"


async def test_a_guide_lists_the_services_but_not_itself_and_is_logged_as_help(
    tmp_path, store_location, more_handlers
):
    more_handlers("huongdan", GUIDE)
    more_handlers("giogiac", HOURS)
    cfg = with_keywords(HUONGDAN="huongdan", GIO="giogiac")

    async with running(store_location, cfg) as rig:
        await rig.mo("huongdan")
        reply = await rig.reply()
        log = await rig.mo_log()

    assert reply.text == "Dich vu: GIO"
    assert [outcome for _, _, outcome in log] == ["help"]


async def test_with_only_a_guide_configured_the_not_understood_reply_offers_it(
    tmp_path, store_location
):
    """No service to offer: the guide's own syntax, never a keyword nobody configured."""
    async with running(store_location, with_keywords(HD="help")) as rig:
        await rig.mo("xin chao")
        reply = await rig.reply()

    assert reply.text == "Tin nhan chua dung cu phap. Soan: HD gui 8083"


async def test_with_no_keyword_configured_the_not_understood_reply_offers_no_syntax(
    tmp_path, store_location
):
    async with running(store_location, with_keywords()) as rig:
        await rig.mo("MCKH 0101701234")
        reply = await rig.reply()
        log = await rig.mo_log()

    assert reply.text == "Tin nhan chua dung cu phap."
    assert [outcome for _, _, outcome in log] == ["not_understood"]


def test_a_handler_with_an_unknown_outcome_is_refused_naming_its_keyword(more_handlers):
    more_handlers("odd", HOURS + 'OUTCOME = "lookup"\n')

    with pytest.raises(HandlerError, match=r"keywords\.ODD: handlers/odd\.py: OUTCOME"):
        load_handlers({"ODD": "odd"})


def test_a_handler_whose_syntax_is_not_text_is_refused(more_handlers):
    more_handlers("odd", HOURS.replace('SYNTAX = "GIO"', "SYNTAX = None"))

    with pytest.raises(HandlerError, match=r"keywords\.ODD: handlers/odd\.py: SYNTAX"):
        load_handlers({"ODD": "odd"})


def test_a_module_without_handle_is_refused(more_handlers):
    more_handlers("odd", 'SYNTAX = "X"\nPURPOSE = "x"\n')

    with pytest.raises(HandlerError, match=r"handlers/odd\.py does not define handle"):
        load_handlers({"ODD": "odd"})


def test_services_are_each_handler_once_with_all_its_keywords():
    services = load_handlers({"MCKH": "mckh", "TRACUU": "mckh", "HD": "help"}).services()

    assert [(s.syntax, s.keywords) for s in services] == [
        ("MCKH <Mã số biên nhận>", ("MCKH", "TRACUU"))
    ]


async def test_the_mckh_reply_is_fitted_with_the_sender_s_encoding(tmp_path, store_location):
    """With 16-bit references a part holds 152 septets, not 153: a 305-septet reply is
    three SMS there, so the step is shortened until it is two, as the composer counts."""
    base = default_config()
    # 199 fixed characters: one segment is out of reach, two are not.
    template = "Thong tin ho so {receipt_no}: " + "x" * 172 + " {step}"
    sct = dataclasses.replace(
        base.agencies["SCT"], templates=MappingProxyType({"mckh_reply": template})
    )
    cfg = dataclasses.replace(
        base,
        smpp=dataclasses.replace(base.smpp, ref16=True),
        agencies=MappingProxyType({**base.agencies, "SCT": sct}),
    )
    step = "Tham dinh " * 10 + "hoso"

    # No sender: the segments are the composer's count, as queued.
    async with running(store_location, cfg, send=False) as rig:
        await rig.store.dossiers.record_intake(dossiers=[dossier(step=step)])
        await rig.mo("MCKH 0101701234")  # answered once the reply is committed
        rows = await db_rows(rig.store, "SELECT segments FROM messages WHERE kind = 'mo_reply'")

    assert len(template.format(receipt_no="0101701234", step=step)) == 305
    assert rows == [(2,)]
