"""Spoken call announcements: the hall display's calls through espeak-ng (when installed)."""

from __future__ import annotations

import shutil
import wave

import pytest

from kiosk.hall_board import HallBoard
from tests.kiosk.kiosk_helpers import start_controller
from ui.tts import Speaker


def test_silent_without_an_engine(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    s = Speaker(enabled=True)
    assert not s.available and s.say("请 A001 号到 1 号窗口办理") is False


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_calls_are_spoken_digit_by_digit(tmp_hall, bus_factory, hall_id, tmp_path):
    ctl = start_controller(tmp_hall, bus_factory)
    speaker = Speaker(enabled=True, out_dir=str(tmp_path / "said"))
    board = HallBoard(hall_id)
    board.call_listeners.append(lambda call: speaker.say(call["spoken_zh"], "zh"))
    board.attach(bus_factory("display"))
    from test_kiosk_staff import wait_for

    assert wait_for(lambda: board.hall)  # retained state arrived: the call subscription is in place too
    ctl.engine.issue("gongan-hukou", channel="cli")
    bus_factory("window-5").request("window.call", {"window": 5})
    assert speaker.wait_spoken(1, timeout=15)
    assert speaker.spoken[0] == ("zh", "请D零零一号到五号窗口办理")
    with wave.open(speaker.files[0]) as w:
        assert w.getnframes() / w.getframerate() > 1.0  # a real utterance, over a second long
