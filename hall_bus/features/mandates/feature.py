"""Controller feature: 帮办代办 mandates (委托单) on the bus: ``mandate.create``, ``mandate.update``,
``mandate.list`` (the ledger, 台账), ``mandate.get`` and ``mandate.print``.

A clerk or 代办员 records a mandate at the window or on the web console; the answer carries its
number and the signed link (:mod:`.link`) that the 回执 prints as a QR code (:mod:`.receipt`), so
the citizen follows it on the phone. The agent must be a staff member of ``[[staff]]``; every
change is audited with ``<bus client>/<actor>`` in the transaction that makes it (:mod:`.store`) and
published as the ``mandate`` event (number and state only; the phone page ``/m/<token>`` follows it).
``mandate.print`` sends the 回执 (:func:`.receipt.receipt_doc`) to the receipt printer of a window
(:mod:`hall_bus.controller.window_print`) and answers at once with the print job (or why it
cannot be sent: ``no_printer``, ``printer_offline``, ``printer_busy``); the ``print`` event tells
how the job ended (printed, ``paper_out`` ...). The controller never waits for a printer.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from hall_bus.bus import topics
from hall_bus.bus.envelope import Envelope, model_of
from hall_bus.contracts import mandates as mandate_contracts
from hall_bus.contracts.base import as_data
from hall_bus.contracts.mandates import (
    MandateCreate,
    MandateGet,
    MandateList,
    MandateListRequest,
    MandateOne,
    MandatePrint,
    MandatePrintQueued,
    MandateUpdate,
)
from hall_bus.controller.features import FeatureContext, FeatureSpec
from hall_bus.controller.ticket_link import link_secret, public_url
from hall_bus.features.evaluation.settings import load as staff_settings
from hall_bus.features.mandates import link
from hall_bus.features.mandates.receipt import receipt_doc
from hall_bus.features.mandates.store import FINAL, MIGRATIONS, STATE_ZH, MandateError, MandateStore

log = logging.getLogger(__name__)


class MandatesFeature:
    def __init__(self, controller: FeatureContext) -> None:
        self.config = controller.config
        self.engine = controller.engine
        self.hall = controller.hall
        self.staff = {s.staff_no: s for s in staff_settings(controller.config).staff}
        self.base_url = public_url(controller.config)
        self.secret = link_secret(controller.config.data_dir)
        self.mandates = MandateStore(controller.store, controller.hall)
        self.bus = controller.bus
        self.printers = controller.printers
        controller.register_op("mandate.create", self._create)
        controller.register_op("mandate.update", self._update)
        controller.register_op("mandate.list", self._list)
        controller.register_op("mandate.get", self._get)
        controller.register_op("mandate.print", self._print)

    def _today(self) -> str:
        return self.engine.local().date().isoformat()

    def _view(self, row: dict[str, Any]) -> dict[str, Any]:
        agent = self.staff.get(row["agent"])
        try:
            service_name = self.config.service(row["service"]).name
        except KeyError:
            service_name = row["service"]
        return {
            **{k: row[k] for k in ("mandate_no", "service", "identity_token", "agent", "materials", "state")},
            **{k: row[k] for k in ("promised_date", "note", "created_at", "updated_at", "history")},
            "service_name": service_name,
            "agent_name": agent.name if agent else row["agent"],
            "state_zh": STATE_ZH[row["state"]],
            "overdue": row["state"] not in FINAL and row["promised_date"] < self._today(),
            "follow_url": link.follow_url(self.base_url, link.sign(self.secret, self.hall, row["mandate_no"])),
        }

    def _one(self, mandate_no: str) -> dict[str, Any]:
        row = self.mandates.get(mandate_no)
        if row is None:
            raise MandateError("not_found", f"no mandate {mandate_no}")
        return as_data(MandateOne.model_validate({"mandate": self._view(row)}))

    def _create(self, env: Envelope) -> dict[str, Any]:
        req = model_of(env, MandateCreate)
        try:
            self.config.service(req.service)
        except KeyError:
            raise MandateError("not_found", f"no service {req.service!r} in this hall") from None
        if req.agent not in self.staff:
            raise MandateError("unknown_agent", f"{req.agent} is not a staff member of this hall")
        promised = _day(req.promised_date)
        today = self._today()
        if promised.isoformat() < today:
            raise MandateError("promised_past", f"the promised date {promised} is before today")
        now = self.engine.now()
        no = self.mandates.create(req.model_dump(), today, now, f"{env.sender}/{req.actor}", req.note or "")
        self._changed(no, "received", now)
        return self._one(no)

    def _update(self, env: Envelope) -> dict[str, Any]:
        req = model_of(env, MandateUpdate)
        now = self.engine.now()
        self.mandates.move(req.mandate_no, req.state, now, f"{env.sender}/{req.actor}", req.note or "")
        self._changed(req.mandate_no, req.state, now)
        return self._one(req.mandate_no)

    def _changed(self, mandate_no: str, state: str, at: float) -> None:
        """The ``mandate`` event (sent when the op's transaction commits: the bus holds it until then)."""
        data = {"mandate_no": mandate_no, "state": state, "at": at}
        self.bus.publish_event(topics.event(self.hall, "mandate"), "mandate", data)

    def _print(self, env: Envelope) -> dict[str, Any]:
        req = model_of(env, MandatePrint)
        row = self.mandates.get(req.mandate_no)
        if row is None:
            raise MandateError("not_found", f"no mandate {req.mandate_no}")
        view = self._view(row)
        if req.lang == "en":
            service = next((s for s in self.config.services if s.id == row["service"]), None)
            view["service_name"] = service.name_en if service is not None and service.name_en else view["service_name"]
        hall_name = self.config.name_en if req.lang == "en" and self.config.name_en else self.config.name
        doc = receipt_doc(view, hall_name, self.config.tz(), lang=req.lang)
        job, printer = self.printers.submit(env, req.window, doc)
        log.info(
            "mandate %s: 回执 sent to window %d (job %s) for %s/%s",
            req.mandate_no,
            req.window,
            job,
            env.sender,
            req.actor,
        )
        queued = MandatePrintQueued(queued=True, job=job, mandate_no=req.mandate_no, window=req.window, printer=printer)
        return as_data(queued)

    def _get(self, env: Envelope) -> dict[str, Any]:
        return self._one(model_of(env, MandateGet).mandate_no)

    def _list(self, env: Envelope) -> dict[str, Any]:
        req = model_of(env, MandateListRequest)
        where: list[str] = ["1"]
        args: list[Any] = []
        for column, value in (("state", req.state), ("agent", req.agent), ("service", req.service)):
            if value is not None:
                where.append(f"{column}=?")
                args.append(value)
        tz = self.config.tz()
        if req.from_day is not None:
            where.append("created_at>=?")
            args.append(dt.datetime.combine(_day(req.from_day), dt.time(0), tz).timestamp())
        if req.to_day is not None:
            where.append("created_at<?")
            end = _day(req.to_day) + dt.timedelta(days=1)
            args.append(dt.datetime.combine(end, dt.time(0), tz).timestamp())
        views = [self._view(r) for r in self.mandates.rows(" AND ".join(where), tuple(args))]
        if req.overdue:
            views = [v for v in views if v["overdue"]]
        return as_data(MandateList.model_validate({"mandates": views}))

    def stop(self) -> None:
        """Nothing runs in the background."""


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise MandateError("invalid_request", f"{text!r} is not a date") from None


SPEC = FeatureSpec(
    name="mandates",
    summary="帮办代办: mandates (委托单) with their order of states, the 回执's follow link, the ledger (台账)",
    attach=MandatesFeature,
    ops=("mandate.create", "mandate.update", "mandate.list", "mandate.get", "mandate.print"),
    contracts=mandate_contracts.CONTRACTS,
    requires=(),
    migrations=tuple(MIGRATIONS),
)
