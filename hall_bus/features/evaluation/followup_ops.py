"""The bus operations of the 差评 follow-up workflow (``followup.*``): the list with its summary, the
CLI's generic move, and the steps the web console takes (assign, note, return visit, rectification,
close). Every change is audited with ``<bus client>/<actor>``, the staff id the web server or the
CLI names, in the same transaction as the change (the ops are ``atomic``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hall_bus.bus.envelope import Envelope, model_of
from hall_bus.contracts.evaluation import (
    FollowupAssign,
    FollowupClose,
    FollowupList,
    FollowupNote,
    FollowupRectify,
    FollowupStep,
    FollowupUpdate,
    FollowupVisit,
)
from hall_bus.controller.features import FeatureContext
from hall_bus.features.evaluation.settings import EvaluationSettings
from hall_bus.features.evaluation.store import EvaluationError, EvaluationStore

OPS = (
    "followup.list",
    "followup.update",
    "followup.assign",
    "followup.note",
    "followup.visit",
    "followup.rectify",
    "followup.close",
)
VIEW: tuple[str, ...] = (
    "id",
    "day",
    "state",
    "visit_due",
    "rectify_due",
    "assignee",
    "real_name",
    "visit_result",
    "opened_at",
)
VIEW += ("visited_at", "rectified_at", "closed_at", "level", "reason", "window", "staff_no", "service", "domain")
VIEW += ("history",)


class FollowupOps:
    def __init__(self, ctl: FeatureContext, store: EvaluationStore, settings: EvaluationSettings) -> None:
        self.ctl = ctl
        self.store = store
        self.names = {s.staff_no: s.name for s in settings.staff}

    def register(self) -> None:
        handlers: dict[str, Callable[[Envelope], dict[str, Any]]] = {
            "followup.list": self.list,
            "followup.update": self.update,
            "followup.assign": self.assign,
            "followup.note": lambda env: self._step(env, FollowupNote, "note"),
            "followup.visit": self.visit,
            "followup.rectify": lambda env: self._step(env, FollowupRectify, "rectify"),
            "followup.close": lambda env: self._step(env, FollowupClose, "close"),
        }
        for op in OPS:
            self.ctl.register_op(op, handlers[op])

    def view(self, f: dict[str, Any]) -> dict[str, Any]:
        return {
            **{k: f[k] for k in VIEW},
            "ticket": f["code"],
            "assignee_name": self.names.get(f["assignee"]) if f["assignee"] else None,
            "overdue": self.store.overdue(f, self.ctl.engine.local().date()),
        }

    def list(self, env: Envelope) -> dict[str, Any]:
        req = model_of(env, FollowupList)
        today = self.ctl.engine.local().date()
        rows = self.store.followups(
            req.state,
            today if req.overdue else None,
            from_day=req.from_day,
            to_day=req.to_day,
            assignee=req.assignee,
            limit=req.limit,
            before_id=req.before_id,
        )
        summary = self.store.summary(today, req.from_day, req.to_day)
        return {"followups": [self.view(f) for f in rows], "summary": summary}

    def update(self, env: Envelope) -> dict[str, Any]:
        req = model_of(env, FollowupUpdate)
        actor = f"{env.sender}/{req.actor}"
        f = self.store.update_followup(req.id, req.state, req.note, actor, self.ctl.engine.now())
        self.ctl.engine.audit(actor, "followup.update", f"followup {req.id}", {"state": req.state, "note": req.note})
        return {"followup": self.view(f)}

    def assign(self, env: Envelope) -> dict[str, Any]:
        req = model_of(env, FollowupAssign)
        if req.assignee not in self.names:
            raise EvaluationError("unknown_staff", f"{req.assignee} is not a staff member of this hall ([[staff]])")
        return self._step(env, FollowupAssign, "assign", assignee=req.assignee)

    def visit(self, env: Envelope) -> dict[str, Any]:
        return self._step(env, FollowupVisit, "visit", result=model_of(env, FollowupVisit).result)

    def _step(self, env: Envelope, model: type[FollowupStep], step: str, **detail: str) -> dict[str, Any]:
        req = model_of(env, model)
        actor = f"{env.sender}/{req.actor}"
        f = self.store.step(req.id, step, actor, self.ctl.engine.now(), note=req.note, **detail)
        audit = {"state": f["state"], "note": req.note, **detail}
        self.ctl.engine.audit(actor, f"followup.{step}", f"followup {req.id}", audit)
        return {"followup": self.view(f)}
