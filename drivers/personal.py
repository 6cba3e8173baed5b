"""The masking rules for personal data, kept at the lowest layer so that every layer, the card codec
included, shows an ID number or a name the same way (``1101**********123X``, ``张*``).
"""

from __future__ import annotations


def mask_id(number: str) -> str:
    """The first four and last four characters of an ID number; the rest starred."""
    number = (number or "").strip()
    if len(number) < 8:
        return "*" * len(number)
    return number[:4] + "*" * 10 + number[-4:]


def mask_name(name: str) -> str:
    """The first character of a name; the rest starred."""
    name = (name or "").strip()
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""
