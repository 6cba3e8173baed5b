"""UI plumbing that needs no window: the screen registry and the CJK font check."""

from __future__ import annotations

import pytest

from ui import kivy_env, registry


def test_every_screen_folder_has_its_py_and_kv():
    names = registry.discover()
    assert names == sorted(
        ["closed", "display", "error", "home", "pickup", "progress", "rate", "scan", "terminal", "ticket"]
    )
    for n in names:
        assert (registry.SCREENS_DIR / n / f"{n}.kv").read_text(encoding="utf-8").count(
            f"<{n.capitalize()}Screen>"
        ) == 1


def test_missing_cjk_font_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("HALLKIT_CJK_FONT", raising=False)
    monkeypatch.setattr(kivy_env, "FONT_CANDIDATES", (tmp_path / "none.ttc",))
    with pytest.raises(kivy_env.FontMissing, match="fonts-wqy-microhei"):
        kivy_env.find_cjk_font()


def test_the_cjk_font_is_installed():
    assert kivy_env.find_cjk_font().is_file()


def test_hallkit_help_does_not_import_kivy():
    import subprocess
    import sys

    code = "import sys; from hall_bus.cli.main import build; build(); print('kivy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().splitlines()[-1] == "False", out.stderr
