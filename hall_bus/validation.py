"""The one typed validation layer of HallKit (pydantic v2): hall.toml sections and bus message data
are pydantic models, and every validation error is told the same way, as ``path: problem``
(``services[3].prefix: must be 1-2 capital letters``, ``data.priority: 'x' is not one of normal,
elderly, ...``), so an operator or an integrator reads which field and what is wrong.

:func:`problems` turns a :class:`pydantic.ValidationError` into those ``(path, problem)`` pairs;
models add their own sentences with ``ValueError`` in validators, which come out unchanged.
"""
from __future__ import annotations

from typing import Any

from pydantic import ValidationError


def location(root: str, loc: tuple[int | str, ...]) -> str:
    """``("services", 3, "prefix")`` under root ``""`` -> ``services[3].prefix``; under ``data`` -> ``data.services[3].prefix``."""
    path = root
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path or root


def _kind(value: Any) -> str:
    return type(value).__name__


def sentence(error: dict[str, Any]) -> str:
    """One pydantic error as a short sentence in HallKit's words."""
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    if kind == "missing":
        return "missing"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "literal_error":
        return f"{value!r} is not one of {ctx.get('expected', '').replace(' or ', ', ').replace(chr(39), '')}"
    if kind in ("string_type",):
        return f"must be a string, got {_kind(value)}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"must be an integer, got {_kind(value)}"
    if kind in ("float_type", "float_parsing", "finite_number"):
        return f"must be a finite number, got {value!r}"
    if kind in ("bool_type", "bool_parsing"):
        return f"must be true or false, got {value!r}"
    if kind in ("list_type",):
        return f"must be a list, got {_kind(value)}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"must be an object, got {_kind(value)}"
    if kind == "string_pattern_mismatch":
        return f"{str(value)[:40]!r} does not match {ctx.get('pattern')}"
    if kind in ("string_too_short", "string_too_long"):
        return f"length {len(value)} outside {ctx.get('min_length', 0)}..{ctx.get('max_length', '')}".rstrip(".")
    if kind in ("too_short", "too_long"):
        return f"{ctx.get('actual_length', len(value) if hasattr(value, '__len__') else '?')} items, expected " \
               f"{ctx.get('min_length', 0)}..{ctx.get('max_length', '')}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"{value} outside {ctx.get('ge', ctx.get('gt', ''))}..{ctx.get('le', ctx.get('lt', ''))}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return str(error["msg"])


def problems(exc: ValidationError, root: str = "") -> list[tuple[str, str]]:
    """Every error of ``exc`` as ``(path, problem)``, in pydantic's order."""
    return [(location(root, tuple(e["loc"])), sentence(dict(e))) for e in exc.errors(include_url=False)]


def first_problem(exc: ValidationError, root: str = "") -> str:
    """The first error as ``path: problem`` (what a ConfigError or a rejected message says)."""
    path, problem = problems(exc, root)[0]
    return f"{path}: {problem}"
