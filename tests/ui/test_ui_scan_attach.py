"""The kiosk's scan screen takes a ticket or a case number (issue 15, item 6), in the real app and a real
window (under xvfb-run): ``tests/ui/scan_attach_run.py`` runs it in its own process, tapped with real
touch events against a real controller on the session mosquitto; this test reads what was drawn."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def drawn(mosquitto, tls_ca, tmp_path_factory):
    if not os.environ.get("DISPLAY"):
        pytest.fail("no display: run the UI tests under xvfb-run")
    out = tmp_path_factory.mktemp("scan-attach")
    run = subprocess.run(
        [sys.executable, str(ROOT / "tests/ui/scan_attach_run.py"), mosquitto.host, str(mosquitto.port), tls_ca, out],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_the_intro_says_it_takes_a_ticket_or_a_case_number(drawn):
    labels = drawn["scan-intro"]["labels"]
    assert "已取号或有受理回执？输入排队号或办件编号，窗口可直接查看材料" in labels
    assert "输入排队号或办件编号" in labels and "开始扫描" in labels
    assert Path(drawn["scan-intro"]["png"]).stat().st_size > 10_000


def test_an_unknown_case_number_is_refused_with_a_sentence_on_the_keypad(drawn):
    shot = drawn["scan-unknown-case"]
    assert shot["state"] == "attach"
    assert "没有查到办件编号 SB2026-99，请核对受理回执后重新输入" in shot["labels"]
    assert "SB2026-99" in shot["labels"]  # what was typed stays, to be corrected


def test_a_known_case_number_is_attached_and_shown_on_the_intro(drawn):
    shot = drawn["scan-case-attached"]
    assert shot["state"] == "intro"
    assert "材料将随办件 SB2026150009 发送到窗口" in shot["labels"]
