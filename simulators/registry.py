"""Simulator kinds by name. ``create("locker", {"boards": "1,2"})`` imports ``simulators.locker``
(which calls :func:`register`) and builds one. Instances created with ``id=NAME`` in their query
can be found again with :func:`instance` (tests and the demo script people at a locker that way)."""

from __future__ import annotations

import importlib
import threading
import weakref
from collections.abc import Callable

from simulators.base import SimulatedDevice

Factory = Callable[[dict[str, str]], SimulatedDevice]

_factories: dict[str, Factory] = {}
_instances: weakref.WeakValueDictionary[str, SimulatedDevice] = weakref.WeakValueDictionary()
_lock = threading.Lock()

KNOWN_KINDS = ("idcard", "locker", "pad", "caller", "display", "printer", "hallbus")


def register(kind: str, factory: Factory) -> None:
    _factories[kind] = factory


def kinds() -> list[str]:
    for kind in KNOWN_KINDS:
        _load(kind)
    return sorted(_factories)


def _load(kind: str) -> None:
    if kind not in _factories:
        try:
            importlib.import_module(f"simulators.{kind}")
        except ModuleNotFoundError as exc:
            if exc.name != f"simulators.{kind}":
                raise


def kind_class(kind: str) -> type[SimulatedDevice]:
    """The simulator class of a kind (for its options and faults)."""
    _load(kind)
    factory = _factories.get(kind)
    if not isinstance(factory, type):
        raise KeyError(f"no simulator of kind {kind!r} (known: {', '.join(kinds())})")
    return factory


def create(kind: str, query: dict[str, str] | None = None) -> SimulatedDevice:
    _load(kind)
    if kind not in _factories:
        raise KeyError(f"no simulator of kind {kind!r} (known: {', '.join(kinds())})")
    device = _factories[kind](dict(query or {}))
    name = (query or {}).get("id")
    if name:
        with _lock:
            _instances[name] = device
    return device


def instance(name: str) -> SimulatedDevice:
    """The live simulator created with ``id=name``."""
    with _lock:
        try:
            return _instances[name]
        except KeyError:
            raise KeyError(f"no live simulator with id {name!r}") from None
