"""Controller feature: the case store (办件) on the bus: ``case.lookup`` and ``case.update``.

Kiosks may only look cases up; creating and moving cases is for staff clients (window terminals,
manager). The pickup feature uses the same :class:`~hall_bus.cases.CaseStore` through
``features["cases"].cases``. The demo hall loads its demo cases through the store
(``simulators.demo_cases``), never through an operation of the controller.
"""

from __future__ import annotations

from typing import Any

from hall_bus.bus.client import ServiceError
from hall_bus.bus.envelope import Envelope, model_of
from hall_bus.contracts import cases as cases_contracts
from hall_bus.contracts.cases import CaseLookup, CaseUpdate
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
        req = model_of(env, CaseLookup)
        return {"cases": self.cases.lookup(case_no=req.case_no, identity_token=req.identity_token)}

    def _update(self, env: Envelope) -> dict[str, Any]:
        self._staff_only(env)
        req = model_of(env, CaseUpdate)
        case = self.cases.upsert(
            req.case_no,
            req.status,
            f"{env.sender}/{req.actor}",
            service=req.service,
            identity_token=req.identity_token,
            title=req.title or "",
            note=req.note or "",
        )
        return {"case": case}

    def stop(self) -> None:
        """Nothing runs in the background."""


SPEC = FeatureSpec(
    name="cases",
    summary="办件: the case store on the bus (case.lookup, case.update)",
    attach=CasesFeature,
    ops=("case.lookup", "case.update"),
    contracts=cases_contracts.CONTRACTS,
    requires=(),
    migrations=tuple(MIGRATIONS),
)
