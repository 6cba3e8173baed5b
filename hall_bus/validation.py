"""The one typed validation layer of HallKit (pydantic v2): hall.toml sections and bus message data
are pydantic models, and every validation error is told the same way, as ``path: problem``
(``services[3].prefix: must be 1-2 capital letters``, ``data.priority: 'x' is not one of normal,
elderly, ...``), so an operator or an integrator reads which field and what is wrong.

:func:`problems` turns a :class:`pydantic.ValidationError` into those ``(path, problem)`` pairs;
models add their own sentences with ``ValueError`` in validators, which come out unchanged.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sized
from typing import Any, Union

from pydantic import BaseModel, ValidationError


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


def _shown(pattern: Any) -> str:
    """A pattern as written in the model: ``^(?:X)$`` (anchored for pydantic and JSON Schema) shows as ``X``."""
    text = str(pattern)
    return text[4:-2] if text.startswith("^(?:") and text.endswith(")$") else text


def _strip(tp: Any) -> tuple[Any, list[Any]]:
    """``Annotated[X | None, m...]`` -> ``(X, [m...])``."""
    meta: list[Any] = []
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            meta += list(tp.__metadata__)
            tp = typing.get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp, meta
            tp = args[0]
        else:
            return tp, meta


def bounds(model: type[BaseModel] | None, loc: tuple[int | str, ...]) -> dict[str, Any]:
    """The constraints (min_length, max_length, ge, le ...) of the field at ``loc`` of ``model``."""
    if model is None:
        return {}
    tp: Any = model
    meta: list[Any] = []
    for part in loc:
        tp, _ = _strip(tp)
        origin = typing.get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
            info = tp.model_fields.get(part)
            if info is None:
                return {}
            tp, meta = info.annotation, list(info.metadata)
        elif origin in (list, tuple) or (origin is dict and isinstance(part, str)):
            tp, meta = typing.get_args(tp)[-1], []
        else:
            return {}
        tp, more = _strip(tp)
        meta += more
    found: dict[str, Any] = {}
    for m in meta:
        for attr in ("min_length", "max_length", "ge", "le", "gt", "lt"):
            if getattr(m, attr, None) is not None:
                found[attr] = getattr(m, attr)
        for item in getattr(m, "metadata", ()):  # a FieldInfo inside Annotated
            for attr in ("min_length", "max_length", "ge", "le", "gt", "lt"):
                if getattr(item, attr, None) is not None:
                    found[attr] = getattr(item, attr)
    return found


def sentence(error: dict[str, Any], model: type[BaseModel] | None = None) -> str:
    """One pydantic error as a short sentence in HallKit's words (``model`` supplies the other bound)."""
    kind, value = error["type"], error.get("input")
    ctx = {**bounds(model, tuple(error["loc"])), **(error.get("ctx") or {})} if model else error.get("ctx") or {}
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
        return f"{str(value)[:40]!r} does not match {_shown(ctx.get('pattern'))}"
    if kind in ("string_too_short", "string_too_long"):
        return f"length {len(str(value))} outside {ctx.get('min_length', 0)}..{ctx.get('max_length', '')}".rstrip(".")
    if kind in ("too_short", "too_long"):
        return (
            f"{ctx.get('actual_length', len(value) if isinstance(value, Sized) else '?')} items, expected "
            f"{ctx.get('min_length', 0)}..{ctx.get('max_length', '')}"
        )
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"{value} outside {ctx.get('ge', ctx.get('gt', ''))}..{ctx.get('le', ctx.get('lt', ''))}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return str(error["msg"])


def problems(exc: ValidationError, root: str = "", model: type[BaseModel] | None = None) -> list[tuple[str, str]]:
    """Every error of ``exc`` as ``(path, problem)``, in pydantic's order."""
    return [(location(root, tuple(e["loc"])), sentence(dict(e), model)) for e in exc.errors(include_url=False)]


def first_problem(exc: ValidationError, root: str = "", model: type[BaseModel] | None = None) -> str:
    """The first error as ``path: problem`` (what a ConfigError or a rejected message says).

    With the ``model`` that raised it, a bound pydantic leaves out of the error is read from the
    model, so that ``length 3 outside 8..64`` names both ends.
    """
    path, problem = problems(exc, root, model)[0]
    return f"{path}: {problem}"
