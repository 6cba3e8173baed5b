"""The pieces every hall.toml model is built from (the core sections here, the feature sections in
their features): :class:`Section`, a frozen strict pydantic model that refuses unknown keys;
:class:`Problem`, a sentence a cross-field validator says about a key below the model; and
:func:`checked`, which validates a table and turns the first error into a :class:`ConfigError`
through :mod:`hall_bus.validation`, so that every section speaks as ``file: key: problem``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, model_validator

from hall_bus import validation
from hall_bus.vocabulary import ID_PATTERN

_ID = re.compile(ID_PATTERN)
M = TypeVar("M", bound=BaseModel)


class ConfigError(ValueError):
    """A hall configuration value is missing or wrong; the message names file and key."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source, self.key, self.problem = source, key, problem
        super().__init__(f"{source}: {key}: {problem}")


class Problem(ValueError):
    """A validator's sentence about ``loc`` below the model that raised it (``("services", 3, "domain")``)."""

    def __init__(self, loc: tuple[int | str, ...], problem: str) -> None:
        super().__init__(problem)
        self.loc = loc


class Section(BaseModel):
    """A table of hall.toml: typed strictly (no "15" for 15), frozen, unknown keys refused by name."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
    unknown_word: ClassVar[str] = "allowed"  # "unknown key (allowed: ...)"

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            extra = sorted(set(data) - set(cls.model_fields))
            if extra:
                names = ", ".join(sorted(cls.model_fields))
                raise Problem((extra[0],), f"unknown key ({cls.unknown_word}: {names})")
        return data


def is_id(value: str) -> bool:
    return _ID.fullmatch(value) is not None


def rule(ok: Callable[[Any], bool], problem: str | Callable[[Any], str]) -> AfterValidator:
    """A field check with its own sentence: ``Annotated[int, rule(lambda v: v >= 1, "must be at least 1")]``."""

    def check(value: Any) -> Any:
        if not ok(value):
            raise ValueError(problem(value) if callable(problem) else problem)
        return value

    return AfterValidator(check)


def between(lo: float, hi: float) -> AfterValidator:
    """A number in ``lo..hi``: ``Annotated[float, between(0.5, 480)]`` says ``500 outside 0.5..480``."""
    return rule(lambda v: lo <= v <= hi, lambda v: f"{v} outside {lo:g}..{hi:g}")


def int_between(lo: int, hi: int) -> AfterValidator:
    """An integer in ``lo..hi``: says ``must be an integer 1..20, got 30``."""
    return rule(lambda v: lo <= v <= hi, lambda v: f"must be an integer {lo}..{hi}, got {v!r}")


ID_RULE = rule(is_id, lambda v: f"{v!r} is not a valid id (lowercase letters, digits, '-' or '_', at most 32)")


def first_problem(exc: ValidationError, root: str = "", model: type[BaseModel] | None = None) -> tuple[str, str]:
    """The first error as ``(key, problem)``; a :class:`Problem` adds its own place below the model."""
    error = exc.errors(include_url=False)[0]
    loc = tuple(error["loc"])
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, Problem):
        loc += cause.loc
    return validation.location(root, loc), validation.sentence(dict(error), model)


def checked(model: type[M], data: Any, source: str, root: str = "", context: dict[str, Any] | None = None) -> M:
    """``model`` validated from ``data``, or a ConfigError naming ``source`` and the key under ``root``."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        key, problem = first_problem(exc, root, model)
        raise ConfigError(source, key or root or "(file)", problem) from None
