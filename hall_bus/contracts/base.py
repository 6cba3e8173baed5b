"""What a bus contract is made of: pydantic v2 models for the ``data`` of each message, and the
:class:`ContractSet` each contracts module declares (no registration side effect).

* :class:`Closed` models refuse unknown fields (``data.x: unknown field``), :class:`Open` models
  keep them. Both are strict: a string is a string, ``true`` is no integer, numbers are finite.
* Field helpers keep the old bounds and spell them once: :func:`text` (strings, at most 256
  characters unless told, patterns matched in full), :func:`integer`, :func:`number`,
  :func:`items` (lists, at most 1000 unless told). ``default=None`` means *optional*: the field may
  be left out, and is then absent from the checked data; ``null`` is accepted only where the type
  says ``| None``.
* :func:`as_data` gives the checked data as a plain dict: defaults filled in, absent optional
  fields left out, unknown fields of open models kept.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

REQUIRED: Any = ...
MAX_TEXT = 256
MAX_ITEMS = 1000


def anchored(pattern: str) -> str:
    """A pattern matched against the whole value (pydantic and JSON Schema search anywhere)."""
    return f"^(?:{pattern})$"


def text(
    min_len: int = 0,
    max_len: int = MAX_TEXT,
    pattern: str | None = None,
    default: Any = REQUIRED,
    description: str | None = None,
) -> Any:
    return Field(
        default,
        min_length=min_len,
        max_length=max_len,
        pattern=anchored(pattern) if pattern else None,
        description=description,
    )


def integer(
    min: int | None = None, max: int | None = None, default: Any = REQUIRED, description: str | None = None
) -> Any:
    return Field(default, ge=min, le=max, description=description)


def real(
    min: float | None = None, max: float | None = None, default: Any = REQUIRED, description: str | None = None
) -> Any:
    return Field(default, ge=min, le=max, description=description)


def array(min_len: int = 0, max_len: int = MAX_ITEMS, default: Any = REQUIRED, description: str | None = None) -> Any:
    return Field(default, min_length=min_len, max_length=max_len, description=description)


def optional(description: str | None = None) -> Any:
    """An optional field without constraints of its own (absent unless sent)."""
    return Field(None, description=description)


class Closed(BaseModel):
    """Message data with known fields only."""

    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False, regex_engine="python-re")
    filled_defaults: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.filled_defaults = frozenset(
            name for name, f in cls.model_fields.items() if not f.is_required() and f.default is not None
        )

    @model_validator(mode="after")
    def _defaults_are_data(self) -> Any:
        # A filled-in default belongs to the data (priority "normal"); an absent optional field does not.
        if self.filled_defaults:
            self.__pydantic_fields_set__ |= self.filled_defaults
        return self


class Open(Closed):
    """Message data that may carry more fields than the ones named (kept as they are)."""

    model_config = ConfigDict(extra="allow")


class Empty(Closed):
    """No data fields."""


class Anything(Open):
    """Any JSON object (free-form detail blocks)."""


def as_data(model: BaseModel) -> dict[str, Any]:
    """The checked data as the plain dict handlers read."""
    return model.model_dump(exclude_unset=True)


@dataclass(frozen=True)
class RequestContract:
    op: str
    request: type[BaseModel]
    response: type[BaseModel]
    summary: str = ""


@dataclass(frozen=True)
class MessageContract:
    type: str  # the message type on the wire
    data: builtins.type[BaseModel]
    summary: str = ""


@dataclass(frozen=True)
class ContractSet:
    """The contracts one module declares."""

    requests: Sequence[RequestContract] = ()
    states: Sequence[MessageContract] = ()
    events: Sequence[MessageContract] = ()


@dataclass
class Registry:
    """Every contract of the bus, by op (requests) and by type (states, events)."""

    requests: dict[str, RequestContract] = field(default_factory=dict)
    states: dict[str, MessageContract] = field(default_factory=dict)
    events: dict[str, MessageContract] = field(default_factory=dict)

    @classmethod
    def of(cls, sets: Sequence[tuple[str, ContractSet]]) -> Registry:
        reg = cls()
        for module, cs in sets:
            for rc in cs.requests:
                _add(reg.requests, rc.op, rc, module)
            for mc in cs.states:
                _add(reg.states, mc.type, mc, module)
            for mc in cs.events:
                _add(reg.events, mc.type, mc, module)
        return reg


def _add(table: dict[str, Any], name: str, entry: object, module: str) -> None:
    if name in table and table[name] != entry:
        raise ValueError(f"{module}: {name!r} has two contracts")
    table[name] = entry
