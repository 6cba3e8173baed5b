"""The kiosk and demo commands: citizen screens only by default, a window that fits the screen."""

from __future__ import annotations

import pytest

from hall_bus.cli.main import build, main
from tests.helpers import ROOT
from ui.kivy_env import window_size
from ui.theme import ui_scale


def test_the_kiosk_shows_citizen_screens_only_unless_staff_tabs_are_asked_for() -> None:
    parser = build().parser
    assert parser.parse_args(["kiosk"]).screens == "kiosk"
    assert parser.parse_args(["kiosk", "--screens", "kiosk,display"]).screens == "kiosk,display"
    demo = parser.parse_args(["demo"])
    assert demo.staff == "window" and demo.orientation == "auto" and demo.size is None and demo.arrivals is None


def test_the_kiosk_has_no_manager_console(monkeypatch, capsys) -> None:
    monkeypatch.setenv("DISPLAY", ":0")  # refused before any window opens
    assert main(["kiosk", "--config", str(ROOT / "hall.toml"), "--screens", "display,terminal,manager"]) == 2
    err = capsys.readouterr().err
    assert "unknown screens ['manager']; use kiosk, display, terminal" in err
    assert "staff web console" in err


def test_the_window_fits_the_screen_it_gets() -> None:
    assert window_size(None, "auto", (1920, 1200)) == (1920, 1080)  # landscape screen: the landscape design
    assert window_size(None, "auto", (1080, 1920), fullscreen=True) == (1080, 1920)
    w, h = window_size(None, "portrait", (1920, 1200))  # a portrait kiosk window on a landscape screen
    assert h <= 1200 - 80 and abs(w / h - 1080 / 1920) < 0.01
    assert window_size("1080x1920", "auto", (1920, 1200)) == (w, h)
    assert window_size("800x600", "portrait", None) == (600, 800)
    assert window_size(None, "auto", None) == (1080, 1920)
    with pytest.raises(ValueError, match="not a window size"):
        window_size("big", "auto", None)
    assert ui_scale(1080, 1920) == 1.0 and ui_scale(1920, 1080) == 1.0
    assert ui_scale(w, h) == pytest.approx(h / 1920, abs=0.01)
