"""A small schema language for bus message data: every field typed, bounded and named in errors.

    TICKET = Obj(service=Str(max_len=32), priority=Enum("normal", "elderly"), note=Str(optional=True))
    TICKET.check(data)  # -> cleaned dict, or raises SchemaError("data.priority: must be one of ...")
"""
from __future__ import annotations

import math
import re
from typing import Any


class SchemaError(ValueError):
    def __init__(self, path: str, problem: str) -> None:
        self.path, self.problem = path, problem
        super().__init__(f"{path}: {problem}")


class Field:
    optional = False
    default: Any = None

    def __init__(self, optional: bool = False, default: Any = None, nullable: bool = False) -> None:
        self.optional = optional or default is not None
        self.default = default
        self.nullable = nullable

    def check(self, value: Any, path: str = "data") -> Any:
        if value is None and self.nullable:
            return None
        return self._check(value, path)

    def _check(self, value: Any, path: str) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> str:
        return type(self).__name__.lower()


class Str(Field):
    def __init__(self, min_len: int = 0, max_len: int = 256, pattern: str | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.min_len, self.max_len = min_len, max_len
        self.pattern = re.compile(pattern) if pattern else None

    def _check(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise SchemaError(path, f"must be a string, got {type(value).__name__}")
        if not self.min_len <= len(value) <= self.max_len:
            raise SchemaError(path, f"length {len(value)} outside {self.min_len}..{self.max_len}")
        if self.pattern and not self.pattern.fullmatch(value):
            raise SchemaError(path, f"{value[:40]!r} does not match {self.pattern.pattern}")
        return value


class Int(Field):
    def __init__(self, min: int | None = None, max: int | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.min, self.max = min, max

    def _check(self, value: Any, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SchemaError(path, f"must be an integer, got {type(value).__name__}")
        if self.min is not None and value < self.min or self.max is not None and value > self.max:
            raise SchemaError(path, f"{value} outside {self.min}..{self.max}")
        return value


class Num(Field):
    def __init__(self, min: float | None = None, max: float | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.min, self.max = min, max

    def _check(self, value: Any, path: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise SchemaError(path, f"must be a finite number, got {value!r}")
        if self.min is not None and value < self.min or self.max is not None and value > self.max:
            raise SchemaError(path, f"{value} outside {self.min}..{self.max}")
        return float(value)


class Bool(Field):
    def _check(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise SchemaError(path, f"must be true or false, got {value!r}")
        return value


class Enum(Field):
    def __init__(self, *choices: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.choices = choices

    def _check(self, value: Any, path: str) -> str:
        if value not in self.choices:
            raise SchemaError(path, f"{value!r} is not one of {', '.join(self.choices)}")
        return value


class List(Field):
    def __init__(self, item: Field, min_len: int = 0, max_len: int = 1000, **kw: Any) -> None:
        super().__init__(**kw)
        self.item, self.min_len, self.max_len = item, min_len, max_len

    def _check(self, value: Any, path: str) -> list:
        if not isinstance(value, list):
            raise SchemaError(path, f"must be a list, got {type(value).__name__}")
        if not self.min_len <= len(value) <= self.max_len:
            raise SchemaError(path, f"{len(value)} items, expected {self.min_len}..{self.max_len}")
        return [self.item.check(v, f"{path}[{i}]") for i, v in enumerate(value)]


class Any_(Field):
    """Anything JSON can hold (for free-form detail blocks)."""

    def _check(self, value: Any, path: str) -> Any:
        return value


class Obj(Field):
    """A JSON object with known fields. Unknown fields are rejected unless ``extra=True``."""

    def __init__(self, extra: bool = False, optional: bool = False, nullable: bool = False, **fields: Field) -> None:
        super().__init__(optional=optional, nullable=nullable)
        self.fields, self.extra = fields, extra

    def _check(self, value: Any, path: str) -> dict:
        if not isinstance(value, dict):
            raise SchemaError(path, f"must be an object, got {type(value).__name__}")
        out: dict[str, Any] = {}
        for name, spec in self.fields.items():
            if name in value:
                out[name] = spec.check(value[name], f"{path}.{name}")
            elif spec.optional:
                if spec.default is not None:
                    out[name] = spec.default
            else:
                raise SchemaError(f"{path}.{name}", "missing")
        unknown = [k for k in value if k not in self.fields]
        if unknown:
            if not self.extra:
                raise SchemaError(f"{path}.{unknown[0]}", "unknown field")
            for k in unknown:
                out[k] = value[k]
        return out


class Map(Field):
    """A JSON object used as a dictionary: string keys, values of one schema."""

    def __init__(self, value: Field, max_len: int = 1000, **kw: Any) -> None:
        super().__init__(**kw)
        self.value, self.max_len = value, max_len

    def _check(self, value: Any, path: str) -> dict:
        if not isinstance(value, dict):
            raise SchemaError(path, f"must be an object, got {type(value).__name__}")
        if len(value) > self.max_len:
            raise SchemaError(path, f"{len(value)} entries, at most {self.max_len}")
        return {str(k): self.value.check(v, f"{path}.{k}") for k, v in value.items()}
