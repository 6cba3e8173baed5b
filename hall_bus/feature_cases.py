"""Controller feature: the case store (办件) on the bus: ``case.lookup``, ``case.update``, ``case.seed``.

Kiosks may only look cases up; creating and moving cases is for staff clients (window terminals,
manager). The pickup feature uses the same :class:`~hall_bus.cases.CaseStore` through
``controller.features["feature_cases"].cases``.
"""
from __future__ import annotations

from typing import Any

from .cases import CaseError, CaseStore
from .cases import contracts  # noqa: F401  (registers the contracts)
from .client import ServiceError
from .messages import Envelope


class CasesFeature:
    def __init__(self, controller: Any) -> None:
        self.controller = controller
        config = controller.config
        self.kiosks = {k.id for k in config.kiosks}
        self.cases = CaseStore(controller.store, controller.hall, clock=controller.engine.clock,
                               service_names={s.id: s.name for s in config.services})
        controller.register_op("case.lookup", self._guard(self._lookup))
        controller.register_op("case.update", self._guard(self._update))
        controller.register_op("case.seed", self._guard(self._seed))

    def _guard(self, fn):
        def run(env: Envelope) -> Any:
            try:
                return fn(env)
            except CaseError as exc:
                raise ServiceError(exc.code, str(exc)) from None
        return run

    def _staff_only(self, env: Envelope) -> None:
        if env.sender in self.kiosks:
            raise ServiceError("forbidden", f"{env.sender} is a kiosk; cases are changed by staff only")

    def _lookup(self, env: Envelope) -> dict:
        d = env.data
        return {"cases": self.cases.lookup(case_no=d.get("case_no"), identity_token=d.get("identity_token"))}

    def _update(self, env: Envelope) -> dict:
        self._staff_only(env)
        d = env.data
        case = self.cases.upsert(d["case_no"], d["status"], f"{env.sender}/{d['actor']}", service=d.get("service"),
                                 identity_token=d.get("identity_token"), title=d.get("title", ""), note=d.get("note", ""))
        return {"case": case}

    def _seed(self, env: Envelope) -> dict:
        self._staff_only(env)
        from devices.identity import hall_salt

        from .cases.demo import DEMO_CASES, seed

        created = seed(self.cases, hall_salt(self.controller.config.data_dir), actor=f"{env.sender}/{env.data['actor']}")
        return {"created": created, "total": len(DEMO_CASES)}


def attach(controller: Any) -> CasesFeature:
    return CasesFeature(controller)
