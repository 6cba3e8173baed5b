"""Controller features as declared plug-ins.

A feature (cases, pickup, tidal windows, evaluations) is a :class:`FeatureSpec` in the explicit list
``hall_bus.features.catalogue.FEATURES``: its name, what it needs (``requires``: pickup needs cases),
the operations it serves (``ops``) and the contracts that define them (``contracts``), its store
migrations and ``attach``, which builds the running :class:`Feature` from a :class:`FeatureContext`.
The controller holds a feature to its declaration: it may register exactly the ``ops`` it declared,
each with a request contract in its ``contracts``. The controller attaches the features that ``hall.toml`` switches on
(``[features] enabled``, all by default) in dependency order, after applying their migrations, and
stops them in reverse order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from hall_bus.bus.client import BusClient
from hall_bus.bus.envelope import Envelope
from hall_bus.config import HallConfig
from hall_bus.contracts.base import ContractSet
from hall_bus.controller.store import Store
from hall_bus.controller.window_print import WindowPrinters
from hall_bus.queue.engine import QueueEngine

OpHandler = Callable[[Envelope], Any]


class Feature(Protocol):
    """A running feature: the controller stops it when it stops."""

    def stop(self) -> None: ...


@dataclass
class FeatureContext:
    """What a feature may use of the controller: its hall, bus, store and queue engine, a way to add
    operations, the features it declared it requires (already attached), and the windows' receipt
    printers (one print job per printer at a time, whichever feature prints)."""

    config: HallConfig
    bus: BusClient
    store: Store
    engine: QueueEngine
    register_op: Callable[[str, OpHandler], None]
    features: dict[str, Feature]
    printers: WindowPrinters

    @property
    def hall(self) -> str:
        return self.config.hall_id


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    summary: str
    attach: Callable[[FeatureContext], Feature]
    ops: tuple[str, ...]
    contracts: ContractSet
    requires: tuple[str, ...] = ()
    migrations: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        defined = {c.op for c in self.contracts.requests}
        missing = [op for op in self.ops if op not in defined]
        if missing:
            raise ValueError(f"feature {self.name!r} declares {missing[0]!r} without a request contract")


def attach_order(specs: tuple[FeatureSpec, ...], enabled: tuple[str, ...] | None) -> list[FeatureSpec]:
    """The specs to attach, dependencies first. ``enabled`` None means every feature; a feature whose
    requirement is switched off is an error, named with both features."""
    by_name = {s.name: s for s in specs}
    wanted = list(by_name) if enabled is None else list(enabled)
    unknown = [n for n in wanted if n not in by_name]
    if unknown:
        raise ValueError(f"unknown feature {unknown[0]!r} (known: {', '.join(by_name)})")
    order: list[FeatureSpec] = []

    def visit(name: str, chain: tuple[str, ...]) -> None:
        spec = by_name[name]
        if spec in order:
            return
        if name in chain:
            raise ValueError(f"features require each other: {' -> '.join(chain + (name,))}")
        for need in spec.requires:
            if need not in wanted:
                raise ValueError(f"feature {name!r} requires {need!r}, which is switched off")
            visit(need, chain + (name,))
        order.append(spec)

    for name in wanted:
        visit(name, ())
    return order
