"""Every `reason` the gateway can publish in a status has a row in docs/INTEGRATION.md's
reason table, so that an agency's developer reading a status finds what it means.

The reasons are taken from the code, not from a list kept beside it: the phone module's
reason codes, the receipt states that settle a message as not delivered, the receipt
timeout's reason, and every literal `reason=` / `reason = ...` in the modules that make
statuses, with the reasons of the retries that a final `last: ...` repeats. A reason added
there without a row here fails this test. The reasons of a payload's own fields
(`<field>: ...`) are the table's generic rows, and the schema's list of field names."""

from __future__ import annotations

import ast
import re

import pytest

from gateway.domain.states import PartState
from gateway.outbound.tracker import part_state
from gateway.phone.numbers import REASONS
from gateway.smpp.receipt import ReceiptState
from gateway.store.receipts import NO_RECEIPT
from tests.support.asyncapi_document import ROOT

GUIDE = ROOT / "docs" / "INTEGRATION.md"
# The modules whose reasons reach a status (a message's, or a refused payload's).
PUBLISHING = [
    "gateway/intake/consumer.py",
    "gateway/compose/composer.py",
    "gateway/outbound/sender.py",
    "gateway/outbound/tracker.py",
    "gateway/store/receipts.py",
]
# Reasons of an outcome that stays `queued`: no status is published for it (a retry or a
# wait publishes nothing until the next state).
NEVER_PUBLISHED = {"quiet hours"}
SNIPPET = re.compile(r"`([^`]+)`")
# Where a reason's fixed text ends: a value, a placeholder, an elision.
VARIABLE = re.compile(r" \.\.\.|\.\.\.|\(| N\b|<|\{")


def fixed_head(text: str) -> str:
    return VARIABLE.split(text, maxsplit=1)[0].strip()


def literal_head(node: ast.expr) -> str | None:
    """The fixed start of a string literal or f-string, None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and isinstance(node.values[0], ast.Constant):
        return str(node.values[0].value)
    return None


def _method(call: ast.Call) -> str | None:
    return call.func.attr if isinstance(call.func, ast.Attribute) else None


def reason_values(node: ast.AST, logged: set[int]) -> list[ast.expr]:
    """The expressions `node` gives as a status's reason: `reason=` (but in a log call),
    `reason = ...`, and the composer's `_final(base, state, reason)`."""
    if isinstance(node, ast.keyword) and node.arg == "reason":
        return [] if id(node) in logged else [node.value]
    if isinstance(node, ast.Assign):
        named = any(isinstance(t, ast.Name) and t.id == "reason" for t in node.targets)
        return [node.value] if named else []
    if isinstance(node, ast.Call) and _method(node) == "_final" and len(node.args) >= 3:
        return [node.args[2]]
    return []


def code_reasons() -> set[str]:
    found: set[str] = set()
    for path in PUBLISHING:
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        logged = {
            id(k)
            for call in ast.walk(tree)
            if isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and isinstance(call.func.value, ast.Name)
            and call.func.value.id == "log"
            for k in call.keywords
        }
        for node in ast.walk(tree):
            found |= {h for v in reason_values(node, logged) if (h := literal_head(v))}
            if isinstance(node, ast.Call) and _method(node) == "_retry_later":
                # A retry's reason is published after `last:` when the retries end.
                head = literal_head(node.args[-1])
                found |= {f"last: {head}"} if head else set()
    found |= {f"phone: {code}" for code in REASONS}
    found |= {
        f"receipt: {s.value}"
        for s in ReceiptState
        if s.final and part_state(s) is not PartState.DELIVERED
    }
    found.add(NO_RECEIPT)
    return {h for h in (fixed_head(r) for r in found) if h} - NEVER_PUBLISHED


def guide_snippets() -> set[str]:
    """The code snippets of the guide's reason table, each cut where its fixed text ends."""
    text = GUIDE.read_text(encoding="utf-8")
    table = text[text.index("| `reason` starts with |") :].split("\n\n", 1)[0]
    first_column = [row.split("|")[1] for row in table.splitlines()[2:]]
    return {h for cell in first_column for s in SNIPPET.findall(cell) if (h := fixed_head(s))}


def documented(reason: str, snippets: set[str]) -> bool:
    return any(reason.startswith(s) or s.startswith(reason) for s in snippets)


def test_the_reasons_are_found_in_the_code():
    # The scan is only worth something if it finds the reasons known to be there.
    reasons = code_reasons()
    assert {"ttl ended unsent", "smsc:", "retries exhausted", "text: needs", NO_RECEIPT} <= reasons
    assert "last: error:" in reasons
    assert "phone: landline" in reasons and "receipt: UNDELIV" in reasons


@pytest.mark.parametrize("reason", sorted(code_reasons()))
def test_every_reason_the_code_publishes_has_a_row_in_the_guide(reason):
    assert documented(reason, guide_snippets()), f"docs/INTEGRATION.md lacks {reason!r}"
