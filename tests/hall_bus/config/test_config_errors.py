"""hall.toml loading: the demo file is valid, and bad config names the file, the key and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from hall_bus import config as hallconfig
from hall_bus.config import ConfigError


def test_demo_hall_loads(hall_toml: Path) -> None:
    cfg = hallconfig.load(hall_toml)
    assert cfg.hall_id == "demo-hall"
    assert {d.id for d in cfg.domains} >= {"shebao", "yibao", "budongchan", "gongan", "shuiwu", "zonghe"}
    assert cfg.service("shebao-card").prefix == "A"
    assert cfg.window(1).domains == ("shebao",)
    assert all(d.url for d in cfg.devices)


def _write(tmp_path: Path, hall_toml: Path, old: str, new: str) -> Path:
    text = hall_toml.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "hall.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "key", "words"),
    [
        ('prefix = "A"', 'prefix = "a1"', "services[0].prefix", "letter"),
        ("expected_minutes = 8", 'expected_minutes = "eight"', "services[0].expected_minutes", "number"),
        ('domains = ["shebao"]', 'domains = ["nosuch"]', "windows[0].domains", "nosuch"),
        ('weekdays = ["09:00-12:00", "13:30-17:30"]', 'weekdays = ["9-12"]', "hall.hours.weekdays", "span like"),
        ("max_priority_in_row = 2", "max_priority_in_row = -1", "queue.max_priority_in_row", ""),
        ('url = "sim://idcard"', 'url = ""', "devices[0].url", "empty"),
    ],
)
def test_bad_value_names_file_key_and_problem(
    tmp_path: Path, hall_toml: Path, old: str, new: str, key: str, words: str
) -> None:
    path = _write(tmp_path, hall_toml, old, new)
    with pytest.raises(ConfigError) as err:
        hallconfig.load(path)
    message = str(err.value)
    assert str(path) in message
    assert key in message
    assert words.lower() in message.lower()


def test_duplicate_window_number(tmp_path: Path, hall_toml: Path) -> None:
    path = _write(tmp_path, hall_toml, "number = 2\n", "number = 1\n")
    with pytest.raises(ConfigError, match=r"windows\[1\]\.number.*duplicate"):
        hallconfig.load(path)


def test_syntax_error_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "hall.toml"
    bad.write_text("[hall\nid = 1", encoding="utf-8")
    with pytest.raises(ConfigError, match="syntax"):
        hallconfig.load(bad)
    with pytest.raises(ConfigError, match="no such file"):
        hallconfig.load(tmp_path / "missing.toml")


def test_unknown_key_is_refused(tmp_path: Path, hall_toml: Path) -> None:
    path = _write(tmp_path, hall_toml, 'name_en = "Social insurance"', 'name_en = "Social insurance"\ncolour = "red"')
    with pytest.raises(ConfigError, match=r"domains\[0\].*colour"):
        hallconfig.load(path)
