"""The bus contracts: every module below declares its ``CONTRACTS`` (a :class:`ContractSet` of pydantic
models), and :func:`registry` joins the modules of :data:`MODULES` into the one registry the envelope
checks against, so every process knows every contract whatever it imported.
"""

from __future__ import annotations

import functools
from types import ModuleType

from hall_bus.contracts import cases, devices, evaluation, pickup, queue, tidal
from hall_bus.contracts.base import ContractSet, MessageContract, Registry, RequestContract

MODULES: tuple[ModuleType, ...] = (queue, devices, cases, evaluation, pickup, tidal)

__all__ = ["MODULES", "ContractSet", "MessageContract", "Registry", "RequestContract", "registry"]


@functools.cache
@functools.cache
def registry() -> Registry:
    """All contracts of :data:`MODULES` (built once)."""
    return Registry.of([(m.__name__, m.CONTRACTS) for m in MODULES])
