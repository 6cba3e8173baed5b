"""好差评 in the controller: ask the window's pad when a ticket is finished, record exactly one rating
per ticket from the pad, the kiosk or the QR code, open a follow-up for every bad review, and
answer reports. See docs/evaluation.md.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import logging
import threading
from typing import Any

from pydantic import ValidationError

from hall_bus.bus import topics
from hall_bus.bus.client import BusTimeout, RequestFailed, ServiceError
from hall_bus.bus.envelope import Envelope, MessageError, model_of
from hall_bus.contracts import evaluation as evaluation_contracts
from hall_bus.contracts.base import as_data
from hall_bus.contracts.devices import PadAccepted, PadEvaluate, PadEvaluation
from hall_bus.contracts.evaluation import EvaluationGet, EvaluationSubmit, ReportDaily, ReportRange
from hall_bus.controller.features import FeatureContext, FeatureSpec
from hall_bus.features.evaluation import followup_ops, ranges, reports, settings
from hall_bus.features.evaluation.store import MIGRATIONS, EvaluationError, EvaluationStore
from hall_bus.features.evaluation.workdays import WorkCalendar
from hall_bus.queue.models import Change, QueueError, Ticket

log = logging.getLogger(__name__)

GRACE_S = 30  # after timeout_s, how long the controller waits for the pad's own timeout event
SWEEP_S = 5.0  # how often pending evaluations are checked (wall seconds)


class EvaluationFeature:
    def __init__(self, controller: FeatureContext) -> None:
        self.ctl = controller
        self.config = controller.config
        self.settings = settings.load(self.config)
        self.calendar = WorkCalendar(self.config.hours)
        self.store = EvaluationStore(
            controller.store,
            self.config.hall_id,
            self.calendar,
            self.config.tz(),
            self.settings.return_visit_days,
            self.settings.rectify_days,
        )
        self.pads = {d.window: d.id for d in self.config.devices if d.kind == "pad" and d.window is not None}
        controller.engine.listeners.append(self._on_change)
        controller.bus.subscribe(f"{topics.hall(self.config.hall_id)}/device/+/event/evaluation", self._on_pad_event)
        for op, fn in (
            ("evaluation.submit", self._submit),
            ("evaluation.get", self._get),
            ("report.daily", self._report),
            ("report.range", self._report_range),
        ):
            controller.register_op(op, fn)
        self.followups = followup_ops.FollowupOps(controller, self.store, self.settings)
        self.followups.register()
        self._label = ranges.labeller(self.config, self.settings)
        self._stopping = threading.Event()
        self._sweeper = threading.Thread(target=self._sweep_loop, name="evaluation-sweep", daemon=True)
        self._sweeper.start()

    def stop(self) -> None:
        self._stopping.set()
        self._sweeper.join(5)

    # ------------------------------------------------------------------ pads that never answer
    def _sweep_loop(self) -> None:
        while not self._stopping.wait(SWEEP_S):
            try:
                self.sweep()
            except Exception:
                log.exception("evaluation sweep failed")

    def sweep(self) -> int:
        """Record "not evaluated" for pads asked more than timeout_s + GRACE_S ago that never reported
        (window host down, pad replaced by a newer request). Returns how many were closed."""
        now = self.ctl.engine.now()
        rows = self.store.stale_pending(now - self.settings.timeout_s - GRACE_S)
        for row in rows:
            self._not_evaluated(row, "the pad never reported")
        return len(rows)

    def _not_evaluated(self, row: dict[str, Any], why: str) -> None:
        if self.store.timed_out(row["ticket_id"], self.ctl.engine.now()):
            log.info("evaluation of %s: not evaluated (%s)", row["code"], why)
            self._publish(row, None, None, "pad")

    def _pad_answered(self, pad: str, ticket_id: int, future: concurrent.futures.Future[Any]) -> None:
        exc = future.exception()
        if exc is None:
            try:
                if PadAccepted.model_validate(future.result()).accepted:
                    return
                exc = RequestFailed("pad.evaluate", "not_accepted", "the pad did not accept the request")
            except ValidationError as bad:
                exc = RequestFailed("pad.evaluate", "invalid_data", str(bad))
        if self._stopping.is_set():
            return
        if not isinstance(exc, (BusTimeout, RequestFailed)):  # e.g. our own bus client stopping: leave it to the sweep
            log.info("evaluation of ticket %s left pending: %s", ticket_id, exc)
            return
        log.warning("pad %s did not take the evaluation of ticket %s: %s", pad, ticket_id, exc)
        self._not_taken(ticket_id, f"pad {pad} did not take the request")

    def _not_taken(self, ticket_id: int, why: str) -> None:
        try:
            row = self.store.get(ticket_id)
            if row is not None:
                self._not_evaluated(row, why)
        except Exception:
            log.exception("evaluation of ticket %s: recording the refused pad failed", ticket_id)

    # ------------------------------------------------------------------ the pad
    def _on_change(self, change: Change) -> None:
        for type_, data in change.events:
            if type_ == "ticket" and data.get("action") == "finished":
                self._ask_pad(data["ticket"], data.get("window") or data["ticket"].get("window"))

    def _ask_pad(self, ticket: dict[str, Any], window: int | None) -> None:
        pad = self.pads.get(window) if window is not None else None
        if pad is None or window is None:
            return  # no pad at that window: the ticket stays rateable at the kiosk or by QR
        clerk = self.settings.clerk_of(window)
        if not self.store.request(ticket, window, clerk.staff_no if clerk else None, self.ctl.engine.now()):
            return
        service = self.config.service(ticket["service"])
        staff = {"staff_name": clerk.name, "staff_no": clerk.staff_no} if clerk else {}
        try:
            req = PadEvaluate(
                ticket=ticket["code"],
                ticket_id=ticket["id"],
                window=window,
                service_name=service.name,
                timeout_s=self.settings.timeout_s,
                **staff,
            )
        except ValidationError as exc:
            log.warning("evaluation of ticket %s: cannot ask pad %s: %s", ticket["code"], pad, exc)
            self._not_taken(ticket["id"], f"the request for pad {pad} breaks its contract")
            return
        future = self.ctl.bus.request_async(
            "pad.evaluate",
            as_data(req),
            timeout=5,
            topic=topics.device_request(self.config.hall_id, pad, "pad.evaluate"),
        )
        future.add_done_callback(lambda f: self._pad_answered(pad, ticket["id"], f))

    def _on_pad_event(self, topic: str, env: Envelope) -> None:
        try:
            ev = model_of(env, PadEvaluation)  # the event's contract model (checked when it arrived)
        except MessageError as exc:
            log.warning("pad event on %s ignored: %s", topic, exc)
            return
        device = topic.split("/")[-3]
        row = self.store.get(ev.ticket_id)
        if row is None or row["code"] != ev.ticket:
            log.warning("pad event for unknown ticket %s (%s) ignored", ev.ticket, ev.ticket_id)
            return
        if self.pads.get(row["window"]) != device:
            log.warning(
                "evaluation of %s from %s ignored: the pad of window %s is %s",
                ev.ticket,
                device,
                row["window"],
                self.pads.get(row["window"]),
            )
            return
        now = self.ctl.engine.now()
        if ev.timed_out:
            self._not_evaluated(row, "no press before the pad's timeout")
            return
        if ev.level is None:
            log.warning("pad %s sent a rating of %s without a level: ignored", device, ev.ticket)
            return
        ticket = {
            "id": row["ticket_id"],
            "code": row["code"],
            "day": row["day"],
            "service": row["service"],
            "domain": row["domain"],
        }
        try:
            rec = self.store.rate(ticket, row["window"], row["staff_no"], ev.level, ev.reason, "pad", now)
        except EvaluationError as exc:
            log.warning("pad rating of %s refused: %s", ev.ticket, exc)
            return
        if rec.created:
            self._publish(rec.row, ev.level, ev.reason, "pad")

    def _publish(self, row: dict[str, Any], level: int | None, reason: str | None, channel: str) -> None:
        self.ctl.bus.publish_event(
            topics.event(self.config.hall_id, "evaluation"),
            "evaluation",
            {
                "ticket": row["code"],
                "window": row["window"],
                "staff_no": row["staff_no"],
                "service": row["service"],
                "domain": row["domain"],
                "channel": channel,
                "level": level,
                "reason": reason,
                "at": self.ctl.engine.now(),
            },
        )

    # ------------------------------------------------------------------ bus operations
    def _ticket(self, code: str, day: str | None) -> Ticket:
        try:
            return self.ctl.engine.ticket(code, day)
        except QueueError as exc:
            raise ServiceError("not_found", str(exc)) from None

    def _submit(self, env: Envelope) -> dict[str, Any]:
        req = model_of(env, EvaluationSubmit)
        t = self._ticket(req.ticket, req.day)
        if t.state != "finished":
            raise ServiceError("not_finished", f"{t.code} is {t.state}; a service is rated after it is finished")
        clerk = self.settings.clerk_of(t.window) if t.window else None
        rec = self.store.rate(
            t.public(),
            t.window,
            clerk.staff_no if clerk else None,
            req.level,
            req.reason,
            req.channel,
            self.ctl.engine.now(),
        )
        if rec.created:
            self._publish(rec.row, req.level, req.reason, req.channel)
        return {"recorded": rec.created, "evaluation": self._view(rec.row)}

    @staticmethod
    def _view(row: dict[str, Any]) -> dict[str, Any]:
        return {
            "ticket": row["code"],
            "status": row["status"],
            "level": row["level"],
            "channel": row["channel"],
            "reason": row["reason"],
            "window": row["window"],
        }

    def _get(self, env: Envelope) -> dict[str, Any]:
        req = model_of(env, EvaluationGet)
        t = self._ticket(req.ticket, req.day)
        row = self.store.get(t.id)
        view = self._view(row) if row else {"ticket": t.code, "status": "none", "level": None, "channel": None}
        return {"evaluation": view, "rateable": t.state == "finished" and (row is None or row["status"] != "rated")}

    def _today(self) -> dt.date:
        return self.ctl.engine.local().date()

    def _report(self, env: Envelope) -> dict[str, Any]:
        day = model_of(env, ReportDaily).date or self._today().isoformat()
        return self.report(day)

    def _report_range(self, env: Envelope) -> dict[str, Any]:
        req = model_of(env, ReportRange)
        return ranges.report_range(
            self.ctl.store,
            self.config.hall_id,
            req.from_day,
            req.to_day,
            req.group,
            clerk_of=self._clerk_no,
            tz=self.config.tz(),
            label=self._label,
        )

    def _clerk_no(self, window: int) -> str | None:
        clerk = self.settings.clerk_of(window)
        return clerk.staff_no if clerk else None

    def report(self, day: str) -> dict[str, Any]:
        return reports.daily(
            self.ctl.store,
            self.config.hall_id,
            day,
            clerk_of=self._clerk_no,
            tz=self.config.tz(),
        )


SPEC = FeatureSpec(
    name="evaluation",
    summary="好差评: one rating per service, 差评 follow-up, reports",
    attach=EvaluationFeature,
    ops=("evaluation.submit", "evaluation.get", *followup_ops.OPS, "report.daily", "report.range"),
    contracts=evaluation_contracts.CONTRACTS,
    requires=(),
    migrations=tuple(MIGRATIONS),
)
