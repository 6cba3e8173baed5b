"""Every error code the controller, a host or the bus can answer with has a sentence in both languages.

The codes are read from the source of ``hall_bus`` (its command line aside): the code argument of every
coded error raised (``CodedError`` and its subclasses, ``ServiceError``, ``MessageError``,
``RequestFailed``, the envelope's ``error``/``checked``/``check_into``), and the ``code`` attribute of
the coded error classes. A new code without a sentence fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from kiosk.i18n import STRINGS, tr
from kiosk.i18n.errors import error_key, error_sentence
from tests.helpers import ROOT

CODE = re.compile(r"^[a-z][a-z0-9_]*$")
# the codes the lead's bus work answers with (some may not be raised in the tree yet)
ANNOUNCED = (
    "forbidden",
    "clock_skew",
    "sold_out",
    "outcome_unknown",
    "invalid_json",
    "invalid_envelope",
    "sender_mismatch",
    "retained_request",
    "rate_limited",
)
CODE_ARG = {"RequestFailed": 1, "error": 3, "checked": 2, "check_into": 2, "_refuse": 0}  # the code argument
LATIN = re.compile(r"[A-Za-z]{3,}")


def _sources() -> list[tuple[Path, ast.Module]]:
    return [
        (p, ast.parse(p.read_text(encoding="utf-8")))
        for p in sorted((ROOT / "hall_bus").rglob("*.py"))
        if "cli" not in p.relative_to(ROOT).parts
    ]


def _name(node: ast.expr) -> str:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""


def _coded_classes(sources: list[tuple[Path, ast.Module]]) -> dict[str, int]:
    """Coded error class -> position of its code argument (QueueError and its subclasses take it second)."""
    bases = {
        n.name: {_name(b) for b in n.bases}
        for _, tree in sources
        for n in ast.walk(tree)
        if isinstance(n, ast.ClassDef)
    }
    coded = {"CodedError": 0, "ServiceError": 0, "MessageError": 0}
    grew = True
    while grew:
        grew = False
        for cls, parents in bases.items():
            if cls not in coded and parents & coded.keys():
                coded[cls] = 1 if "QueueError" in parents or cls == "QueueError" else 0
                grew = True
    return coded


def _literals(node: ast.expr) -> list[str]:
    if isinstance(node, ast.IfExp):
        return _literals(node.body) + _literals(node.orelse)
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.match(node.value):
        return [node.value]
    return []


def raised_codes() -> dict[str, str]:
    """code -> where it is raised (file:line)."""
    sources = _sources()
    positions = _coded_classes(sources) | CODE_ARG
    coded = set(_coded_classes(sources))
    found: dict[str, str] = {}
    for path, tree in sources:
        where = path.relative_to(ROOT)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = _name(node.func)
                if name in ("checked",) and len(node.args) != 3:
                    continue  # the config layer's checked(model, raw, source, section) names no code
                pos = positions.get(name)
                if pos is None:
                    continue
                args = [*node.args[pos : pos + 1], *(k.value for k in node.keywords if k.arg == "code")]
                for arg in args:
                    for code in _literals(arg):
                        found.setdefault(code, f"{where}:{node.lineno}")
            elif isinstance(node, ast.ClassDef) and node.name in coded:
                for st in node.body:
                    if isinstance(st, ast.Assign) and any(_name(t) == "code" for t in st.targets):
                        for code in _literals(st.value):
                            found.setdefault(code, f"{where}:{st.lineno}")
    return found


def test_the_scan_finds_the_codes_of_every_layer():
    codes = raised_codes()
    # one of each way a code is given: a queue error (code second), a class attribute, a feature's
    # error, a host's ServiceError, the envelope's MessageError, messages.error, a conditional code
    for code in ("window_paused", "closed", "wrong_code", "pad_offline", "too_large", "expired", "invalid_qr"):
        assert code in codes, code
    assert "pickup" not in codes and "evaluation" not in codes  # config sections are not error codes


def test_every_code_has_a_sentence_in_both_languages():
    codes = set(raised_codes()) | set(ANNOUNCED) | {"bus", "failed"}
    missing = sorted(c for c in codes if f"error.{c}" not in STRINGS)
    assert not missing, f"error codes without a sentence in kiosk/i18n/errors.py: {missing}"
    for code in codes:
        zh, en = STRINGS[f"error.{code}"]
        assert zh and en and zh != en
        assert not LATIN.search(zh), f"error.{code}: English in the Chinese sentence: {zh!r}"
        assert "{" not in zh and "{" not in en, f"error.{code} takes no values: it never repeats the detail"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_unknown_code_falls_back_to_the_general_sentence(lang):
    assert error_key("no_such_code") == "error.failed"
    assert error_key("printer.paper_out") == "error.failed"  # a code is one word, not a key path
    assert error_sentence("no_such_code", lang) == tr("error.failed", lang)
    assert error_sentence("window_paused", lang) == tr("error.window_paused", lang)


def test_the_general_sentence_never_repeats_the_detail():
    """``error.failed`` used to be "操作未成功：{reason}" with the controller's English in it."""
    assert tr("error.failed", "zh", reason="window 1 has no ticket called") == "操作未成功，请重试或咨询工作人员"
