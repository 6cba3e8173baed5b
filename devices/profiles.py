"""Capability profiles: one JSON file per device model in ``devices/profiles/<kind>/<name>.json``.

    {"name": "generic-80mm", "kind": "printer", "features": ["qr", "cut", "gb18030"],
     "settings": {"width_dots": 576, "chars_per_line": 48}}

Code asks ``profile.supports("qr")`` and ``profile.get("width_dots")``; a new model is a new file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROFILE_DIR = Path(__file__).resolve().parent / "profiles"


class ProfileError(ValueError):
    pass


@dataclass(frozen=True)
class Profile:
    name: str
    kind: str
    features: frozenset[str] = frozenset()
    settings: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def supports(self, feature: str) -> bool:
        return feature in self.features

    def get(self, key: str, default: Any = None) -> Any:
        return self.settings.get(key, default)


def available(kind: str) -> list[str]:
    folder = PROFILE_DIR / kind
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []


def load_profile(kind: str, name: str = "") -> Profile:
    """The named profile of a kind; with no name, the kind's ``generic*`` profile (or an empty one)."""
    if not name:
        names = available(kind)
        generic = [n for n in names if n.startswith("generic")]
        if not generic:
            return Profile(name="", kind=kind)
        name = generic[0]
    path = PROFILE_DIR / kind / f"{name}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError(f"no {kind} profile {name!r} (known: {', '.join(available(kind)) or 'none'})") from None
    except json.JSONDecodeError as exc:
        raise ProfileError(f"{path}: {exc}") from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("features", []), list)
        or not isinstance(data.get("settings", {}), dict)
    ):
        raise ProfileError(f"{path}: needs {{name, kind, features: [...], settings: {{...}}}}")
    return Profile(
        name=data.get("name", name),
        kind=data.get("kind", kind),
        features=frozenset(data.get("features", [])),
        settings=dict(data.get("settings", {})),
        description=data.get("description", ""),
    )
