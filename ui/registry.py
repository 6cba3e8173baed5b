"""The screen registry: every folder ``ui/screens/<name>/`` with ``<name>.py`` and ``<name>.kv``.

``discover()`` lists the screen names; ``load(name)`` loads the ``.kv`` beside the module and
returns the screen class the module names in ``SCREEN``. Adding a screen is adding a folder.
"""

from __future__ import annotations

import importlib
from pathlib import Path

SCREENS_DIR = Path(__file__).resolve().parent / "screens"
_loaded: dict[str, type] = {}


def discover() -> list[str]:
    return sorted(
        p.name
        for p in SCREENS_DIR.iterdir()
        if p.is_dir() and (p / f"{p.name}.py").is_file() and (p / f"{p.name}.kv").is_file()
    )


def load(name: str) -> type:
    if name in _loaded:
        return _loaded[name]
    folder = SCREENS_DIR / name
    if not (folder / f"{name}.py").is_file():
        raise LookupError(f"no screen {name!r} (known: {', '.join(discover())})")
    from kivy.lang import Builder

    module = importlib.import_module(f"ui.screens.{name}.{name}")
    Builder.load_file(str(folder / f"{name}.kv"))
    cls: type = module.SCREEN
    _loaded[name] = cls
    return cls


def load_all() -> dict[str, type]:
    return {name: load(name) for name in discover()}
