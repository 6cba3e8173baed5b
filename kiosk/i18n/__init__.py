"""Kiosk strings: Simplified Chinese first (the default), English available at any time.

One table, kept in three files by audience (``citizen``, ``staff``, ``errors``) and joined here; a key
defined twice is an error at import.

``tr(key, lang, **values)`` formats one string. Every key has both languages; a missing key is a
programming error and raises ``KeyError`` at once (tests walk every key).
"""

from __future__ import annotations

from typing import Any

from kiosk.i18n import citizen, errors, staff

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"


def _join(*tables: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    joined: dict[str, tuple[str, str]] = {}
    for table in tables:
        twice = joined.keys() & table.keys()
        if twice:
            raise ValueError(f"i18n keys defined twice: {sorted(twice)}")
        joined.update(table)
    return joined


# key: (中文, English)
STRINGS: dict[str, tuple[str, str]] = _join(citizen.STRINGS, staff.STRINGS, errors.STRINGS)


def tr(key: str, lang: str = DEFAULT_LANG, **values: object) -> str:
    """The string ``key`` in ``lang`` (zh or en), formatted with ``values``."""
    zh, en = STRINGS[key]
    text = en if lang == "en" else zh
    return text.format(**values) if values else text


def name_of(item: dict[str, Any], lang: str) -> str:
    """The display name of a hall.info entry (domain/service) in ``lang``."""
    if lang == "en" and item.get("name_en"):
        return str(item["name_en"])
    return str(item.get("name", ""))
