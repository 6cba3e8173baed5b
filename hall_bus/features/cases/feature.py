"""Controller feature: the case store (办件) on the bus.

* ``case.lookup`` and ``case.update``: kiosks may only look cases up; creating and moving cases is
  for staff clients (window terminals, manager, web, integrator).
* Every status change publishes a ``case`` event (no personal data) and, for a case with an identity
  token, queues a message to the citizen in the outbox in the same transaction; a worker sends it
  through the ``[cases.notify]`` adapter (办件进度实时推送, :mod:`~hall_bus.features.cases.notify_outbox`).
* ``case.receipt`` gives staff the verification code to print on the receipt; ``case.print_receipt``
  prints that receipt (办件受理回执: the code and a QR of the phone page, nothing of the citizen) on a
  window's receipt printer (:mod:`~hall_bus.controller.window_print`: answered once sent, the
  ``print`` event tells the end, so a slow printer never holds up the hall); ``case.progress``
  answers the phone page (``/case``) for a case number with its code, counting wrong codes
  (:mod:`~hall_bus.features.cases.codes`).

The pickup feature uses the same :class:`~hall_bus.features.cases.CaseStore` through
``features["cases"].cases``, so its status changes notify too. The demo hall loads its demo cases
through the store (``simulators.demo_cases``), never through an operation of the controller.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from drivers.escpos_docs import CaseReceiptDoc
from hall_bus.bus import topics
from hall_bus.bus.client import ServiceError
from hall_bus.bus.envelope import Envelope, model_of
from hall_bus.contracts import cases as cases_contracts
from hall_bus.contracts.base import as_data
from hall_bus.contracts.cases import (
    CaseLookup,
    CasePrintReceipt,
    CaseProgress,
    CaseReceiptQueued,
    CaseReceiptRequest,
    CaseUpdate,
)
from hall_bus.controller.features import FeatureContext, FeatureSpec
from hall_bus.controller.ticket_link import public_url
from hall_bus.features.cases import codes, notify_config
from hall_bus.features.cases.notify import case_text, make_notifier
from hall_bus.features.cases.notify_outbox import CaseOutbox
from hall_bus.features.cases.store import MIGRATIONS, STATUS_ZH, CaseError, CaseStep, CaseStore

log = logging.getLogger(__name__)


class CasesFeature:
    def __init__(self, controller: FeatureContext) -> None:
        self.controller = controller
        config = controller.config
        self.kiosks = {k.id for k in config.kiosks}
        self.clock = controller.engine.clock
        self.base_url = public_url(config)
        self.code_secret = codes.code_secret(config.data_dir)
        self.notify_settings = notify_config.from_config(config)
        self.outbox = CaseOutbox(
            controller.store,
            make_notifier(self.notify_settings, controller.hall),
            self.notify_settings,
            controller.hall,
            self._text,
            clock=self.clock,
        )
        self.cases = CaseStore(
            controller.store,
            controller.hall,
            clock=self.clock,
            service_names={s.id: s.name for s in config.services},
            on_step=self.outbox.record,
            on_change=self._publish,
        )
        controller.register_op("case.lookup", self._lookup)
        controller.register_op("case.update", self._update)
        controller.register_op("case.receipt", self._receipt)
        controller.register_op("case.progress", self._progress)
        controller.register_op("case.print_receipt", self._print_receipt)
        self.printers = controller.printers
        self.outbox.start()

    def page_url(self, case_no: str) -> str:
        return f"{self.base_url}case?no={case_no}"

    def _text(self, step: CaseStep) -> str:
        title = step.title or self.cases.service_names.get(step.service, step.service)
        return case_text(
            self.controller.config.name,
            self.page_url(step.case_no),
            step.case_no,
            title,
            STATUS_ZH[step.status],
            step.status,
        )

    def _publish(self, step: CaseStep) -> None:
        data = {
            "case_no": step.case_no,
            "service": step.service,
            "status": step.status,
            "status_zh": STATUS_ZH[step.status],
            "at": step.at,
        }
        try:
            self.controller.bus.publish_event(topics.event(self.controller.hall, "case"), "case", data)
        except Exception:  # the step is committed; a lost event must not undo it
            log.exception("case event for %s not published", step.case_no)

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

    def _receipt(self, env: Envelope) -> dict[str, Any]:
        self._staff_only(env)
        case_no = model_of(env, CaseReceiptRequest).case_no.upper()
        if self.cases.row(case_no) is None:
            raise CaseError("not_found", f"no case {case_no}")
        code = codes.case_code(self.code_secret, self.controller.hall, case_no)
        return {"case_no": case_no, "code": codes.printed(code), "page_url": self.page_url(case_no)}

    def _print_receipt(self, env: Envelope) -> dict[str, Any]:
        """The 受理回执 at a window's printer: the case number, the service, when it was accepted, the
        verification code and the phone page's QR (the page and the case number, never the code).
        Answered once the job is sent; the ``print`` event tells how it ended (never waited for here)."""
        self._staff_only(env)
        req = model_of(env, CasePrintReceipt)
        case_no = req.case_no.upper()
        if self.cases.row(case_no) is None:
            raise CaseError("not_found", f"no case {case_no}")
        case = self.cases.public(case_no)
        config = self.controller.config
        title = str(case["title"])
        service = next((s for s in config.services if s.id == case["service"]), None)
        if req.lang == "en" and service is not None and service.name_en and title == service.name:
            title = service.name_en
        doc = CaseReceiptDoc(
            hall_name=config.name_en if req.lang == "en" and config.name_en else config.name,
            case_no=case_no,
            service_name=title,
            code=codes.printed(codes.case_code(self.code_secret, self.controller.hall, case_no)),
            accepted_at=dt.datetime.fromtimestamp(float(case["created_at"]), config.tz()),
            qr_url=self.page_url(case_no),
            lang=req.lang,
        )
        job, printer = self.printers.submit(env, req.window, doc)
        log.info(
            "case %s: receipt sent to window %d (job %s) for %s/%s", case_no, req.window, job, env.sender, req.actor
        )
        return as_data(CaseReceiptQueued(queued=True, job=job, case_no=case_no, window=req.window, printer=printer))

    def _progress(self, env: Envelope) -> dict[str, Any]:
        """A wrong code and an unknown case number get the same refusal (case numbers are not probed)."""
        req = model_of(env, CaseProgress)
        case_no, now = req.case_no.upper(), self.clock()
        with self.controller.store.transaction() as db:
            until = codes.locked_until(db, case_no, now)
            if until is not None:
                at = dt.datetime.fromtimestamp(until, self.controller.config.tz()).strftime("%H:%M")
                raise CaseError("case_code_locked", f"too many wrong codes for this case; try again after {at}")
            good = codes.matches(self.code_secret, self.controller.hall, case_no, req.code)
            if good and self.cases.row(case_no) is not None:
                codes.clear_failures(db, case_no)
            else:
                codes.count_failure(db, case_no, now)
                good = False
        if not good:
            raise CaseError("case_code", "the case number or the verification code is wrong")
        return {"case": self.cases.public(case_no)}

    def stop(self) -> None:
        """Stop the outbox worker; a message in flight stays due and is sent again on the next start."""
        self.outbox.stop()


SPEC = FeatureSpec(
    name="cases",
    summary="办件: the case store on the bus (case.lookup, case.update), progress messages, the phone page's lookup",
    attach=CasesFeature,
    ops=("case.lookup", "case.update", "case.receipt", "case.progress", "case.print_receipt"),
    contracts=cases_contracts.CONTRACTS,
    requires=(),
    migrations=tuple(MIGRATIONS),
)
