"""The bus contracts: every module below declares its ``CONTRACTS`` (a :class:`ContractSet` of pydantic
models), and :func:`registry` joins the modules of :data:`MODULES` into the one registry the envelope
checks against, so every process knows every contract whatever it imported.

Typed requests in handlers: a request envelope checked by :func:`hall_bus.bus.envelope.parse` carries
``env.model`` (the validated pydantic model) beside ``env.data`` (its plain dict). Read it typed with::

    from hall_bus.bus.envelope import model_of

    def model_of(env: Envelope, model: type[M]) -> M  # M bound to pydantic.BaseModel

    req = model_of(env, WindowRequest)  # -> WindowRequest; req.window is an int for mypy

It returns ``env.model`` when that is already a ``model``, and otherwise validates ``env.data`` against
``model`` (``MessageError("invalid_data", ...)`` if it breaks the contract). Build responses as the
contract's response model and hand back :func:`hall_bus.contracts.base.as_data` of it.
"""

from __future__ import annotations

import functools
from types import ModuleType

from hall_bus.contracts import booking, cases, devices, evaluation, mandates, pickup, queue, tidal
from hall_bus.contracts.base import ContractSet, MessageContract, Registry, RequestContract

MODULES: tuple[ModuleType, ...] = (queue, devices, cases, evaluation, pickup, tidal, booking, mandates)

__all__ = ["MODULES", "ContractSet", "MessageContract", "Registry", "RequestContract", "registry"]


@functools.cache
def registry() -> Registry:
    """All contracts of :data:`MODULES` (built once)."""
    return Registry.of([(m.__name__, m.CONTRACTS) for m in MODULES])
