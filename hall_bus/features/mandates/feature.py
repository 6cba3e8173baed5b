"""Controller feature: 帮办代办 mandates (委托单) on the bus: ``mandate.create``, ``mandate.update``,
``mandate.list`` (the ledger, 台账) and ``mandate.get``.

A clerk or 代办员 records a mandate at the window or on the web console; the answer carries its
number and the signed link (:mod:`.link`) that the 回执 prints as a QR code (:mod:`.receipt`), so
the citizen follows it on the phone. The agent must be a staff member of ``[[staff]]``; every
change is audited with ``<bus client>/<actor>`` in the transaction that makes it (:mod:`.store`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hall_bus.bus.envelope import Envelope, model_of
from hall_bus.contracts import mandates as mandate_contracts
from hall_bus.contracts.base import as_data
from hall_bus.contracts.mandates import (
    MandateCreate,
    MandateGet,
    MandateList,
    MandateListRequest,
    MandateOne,
    MandateUpdate,
)
from hall_bus.controller.features import FeatureContext, FeatureSpec
from hall_bus.controller.ticket_link import link_secret, public_url
from hall_bus.features.evaluation.settings import load as staff_settings
from hall_bus.features.mandates import link
from hall_bus.features.mandates.store import FINAL, MIGRATIONS, STATE_ZH, MandateError, MandateStore


class MandatesFeature:
    def __init__(self, controller: FeatureContext) -> None:
        self.config = controller.config
        self.engine = controller.engine
        self.hall = controller.hall
        self.staff = {s.staff_no: s for s in staff_settings(controller.config).staff}
        self.base_url = public_url(controller.config)
        self.secret = link_secret(controller.config.data_dir)
        self.mandates = MandateStore(controller.store, controller.hall)
        controller.register_op("mandate.create", self._create)
        controller.register_op("mandate.update", self._update)
        controller.register_op("mandate.list", self._list)
        controller.register_op("mandate.get", self._get)

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
        no = self.mandates.create(
            req.model_dump(), today, self.engine.now(), f"{env.sender}/{req.actor}", req.note or ""
        )
        return self._one(no)

    def _update(self, env: Envelope) -> dict[str, Any]:
        req = model_of(env, MandateUpdate)
        self.mandates.move(req.mandate_no, req.state, self.engine.now(), f"{env.sender}/{req.actor}", req.note or "")
        return self._one(req.mandate_no)

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
    ops=("mandate.create", "mandate.update", "mandate.list", "mandate.get"),
    contracts=mandate_contracts.CONTRACTS,
    requires=(),
    migrations=tuple(MIGRATIONS),
)
