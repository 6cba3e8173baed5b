"""Controller feature: the case store (办件) on the bus: ``case.lookup`` and ``case.update``.

Kiosks may only look cases up; creating and moving cases is for staff clients (window terminals,
manager). The pickup feature uses the same :class:`~hall_bus.cases.CaseStore` through
``features["cases"].cases``. The demo hall loads its demo cases through the store
(``simulators.demo_cases``), never through an operation of the controller.
"""

from __future__ import annotations

from typing import Any

from hall_bus.bus.client import ServiceError
from hall_bus.bus.envelope import Envelope
from hall_bus.controller.features import FeatureContext, FeatureSpec
from hall_bus.features.cases import CaseStore
from hall_bus.features.cases.store import MIGRATIONS


class CasesFeature:
    def __init__(self, controller: FeatureContext) -> None:
        self.controller = controller
        config = controller.config
        self.kiosks = {k.id for k in config.kiosks}
        self.cases = CaseStore(
            controller.store,
            controller.hall,
            clock=controller.engine.clock,
            service_names={s.id: s.name for s in config.services},
        )
        controller.register_op("case.lookup", self._lookup)
        controller.register_op("case.update", self._update)

    def _staff_only(self, env: Envelope) -> None:
        if env.sender in self.kiosks:
            raise ServiceError("forbidden", f"{env.sender} is a kiosk; cases are changed by staff only")

    def _lookup(self, env: Envelope) -> dict[str, Any]:
        d = env.data
        return {"cases": self.cases.lookup(case_no=d.get("case_no"), identity_token=d.get("identity_token"))}

    def _update(self, env: Envelope) -> dict[str, Any]:
        self._staff_only(env)
        d = env.data
        case = self.cases.upsert(
            d["case_no"],
            d["status"],
            f"{env.sender}/{d['actor']}",
            service=d.get("service"),
            identity_token=d.get("identity_token"),
            title=d.get("title", ""),
            note=d.get("note", ""),
        )
        return {"case": case}

    def stop(self) -> None:
        """Nothing runs in the background."""


SPEC = FeatureSpec(
    name="cases",
    summary="办件: the case store on the bus (case.lookup, case.update)",
    attach=CasesFeature,
    requires=(),
    migrations=tuple(MIGRATIONS),
)
