"""Issue 13's staff, display, rating and scan screens in the real app and a real window (under xvfb-run).

The app runs in its own process (``tests/ui/staff_screens_run.py``: Kivy allows one window per process,
and ``test_ui_kiosk.py`` holds this process's), tapped with real touch events against a real controller on
the session mosquitto. Each screen's screenshot is kept in the test's folder; this test reads what was drawn.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.clock import clock_text
from tests.helpers import ROOT

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def drawn(mosquitto, tls_ca, tmp_path_factory):
    if not os.environ.get("DISPLAY"):
        pytest.fail("no display: run the UI tests under xvfb-run")
    out = tmp_path_factory.mktemp("staff-screens")
    env = dict(os.environ, TZ="UTC")  # the machine's zone differs from the hall's (Asia/Shanghai)
    run = subprocess.run(
        [sys.executable, str(ROOT / "tests/ui/staff_screens_run.py"), mosquitto.host, str(mosquitto.port), tls_ca, out],
        capture_output=True,
        text=True,
        env=env,
        timeout=420,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_the_terminal_shows_the_green_channel_and_offers_other_windows(drawn):
    labels = drawn["terminal-green"]["labels"]
    assert "绿色通道：60岁以上老年人" in labels
    assert "转到业务：" in labels and "转到窗口：" in labels
    assert "2号窗口" in labels and "3号窗口" in labels
    assert Path(drawn["terminal-green"]["png"]).stat().st_size > 10_000


def test_a_paused_window_says_so_and_its_clock_is_the_halls(drawn):
    shot = drawn["terminal-paused"]
    assert any(t.startswith("本窗口暂停服务") for t in shot["labels"])
    assert not any(t.startswith("办理中") for t in shot["labels"])
    assert any(t.startswith("预约 YY2026UI") for t in shot["labels"])
    hall = {"timezone": "Asia/Shanghai"}
    clocks = [t for t in shot["labels"] if re.fullmatch(r"\d\d:\d\d:\d\d", t)]
    assert clocks and clocks[0][:2] == clock_text(hall, shot["at"])[:2]  # the process ran with TZ=UTC


def test_errors_are_sentences_not_the_controllers_english(drawn):
    labels = drawn["terminal-error"]["labels"]
    assert "本窗口当前没有可操作的号码" in labels
    assert not any("has no ticket" in t for t in labels)


def test_rating_an_already_rated_ticket_is_refused_first(drawn):
    labels = drawn["rate-already"]["labels"]
    assert "A002 已经评价过，感谢您的参与" in labels and "非常满意" not in labels


def test_the_scan_done_screen_is_a_slip_with_the_next_step(drawn):
    code = drawn["scan-done"]["code"]
    labels = drawn["scan-done"]["labels"]
    assert "材料编号" in labels and code in labels
    assert any(t.startswith("扫描时间") for t in labels) and any(t.startswith("保存至") for t in labels)
    assert any(t.startswith("下一步：请取号") and code in t for t in labels)
    assert "去取号" in labels
    assert "Material code" in drawn["scan-done-en"]["labels"] and "材料编号" in drawn["scan-done-elder"]["labels"]


def test_the_display_says_a_paused_window_is_paused(drawn):
    labels = drawn["display"]["labels"]
    assert labels.count("暂停服务") == 1 and "D001" in labels  # window 5 paused while serving D001
    assert any(re.fullmatch(r"约 \d+ 分钟", t) for t in labels) and not any(t.endswith("'") for t in labels)
