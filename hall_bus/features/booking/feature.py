"""Controller feature: appointments (预约) on the bus: ``booking.slots``, ``booking.book``,
``booking.cancel``, ``booking.list`` (one day, per slot) and ``booking.report`` (appointments kept
over a range of days).

The slot rules are ``[booking]`` of hall.toml (:mod:`.rules`); the bookings are written to the core
``appointments`` table, so the kiosk's check-in (``appointment.lookup``, ``ticket.issue`` with
``appointment``) takes them as they are. ``booking.book`` is atomic: the controller handles one
request at a time, and the store counts and inserts in one transaction besides (:mod:`.store`).

The phone number is hashed with the hall's booking key: ``HALLKIT_BOOKING_SECRET`` or a 0600 file
``booking.secret`` in the data_dir, created on first use.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from devices.secret_file import hall_key
from hall_bus.bus.envelope import Envelope, model_of
from hall_bus.contracts import booking as booking_contracts
from hall_bus.contracts.base import as_data
from hall_bus.contracts.booking import (
    Book,
    Booked,
    BookingList,
    BookingReport,
    Cancel,
    Cancelled,
    ListRequest,
    ReportRequest,
    Slots,
    SlotsRequest,
)
from hall_bus.controller.features import FeatureContext, FeatureSpec
from hall_bus.features.booking import rules as booking_rules
from hall_bus.features.booking.rules import BookingSettings, ServiceRules, Slot
from hall_bus.features.booking.store import MIGRATIONS, BookingError, BookingStore, booking_state
from hall_bus.features.evaluation import ranges
from hall_bus.features.evaluation.settings import EvaluationSettings

SECRET_ENV = "HALLKIT_BOOKING_SECRET"
SECRET_FILE = "booking.secret"


def booking_key(data_dir: str) -> bytes:
    return hall_key(data_dir, SECRET_FILE, SECRET_ENV, "booking secret")


class BookingFeature:
    def __init__(self, controller: FeatureContext) -> None:
        self.config = controller.config
        self.engine = controller.engine
        self.settings: BookingSettings = booking_rules.from_config(controller.config)  # ConfigError names the key
        self.bookings = BookingStore(
            controller.store, controller.hall, booking_key(controller.config.data_dir), clock=controller.engine.clock
        )
        controller.register_op("booking.slots", self._slots)
        controller.register_op("booking.book", self._book)
        controller.register_op("booking.cancel", self._cancel)
        controller.register_op("booking.list", self._list)
        controller.register_op("booking.report", self._report)
        self._label = ranges.labeller(controller.config, EvaluationSettings())  # names of weeks, months, services

    # ------------------------------------------------------------------ helpers
    def _rules(self, service: str) -> ServiceRules:
        rules = self.settings.rules(service)
        if rules is None:
            raise BookingError("not_bookable", f"service {service!r} takes no appointments")
        return rules

    def _today(self) -> dt.date:
        return self.engine.local().date()

    def _day(self, text: str) -> dt.date:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise BookingError("invalid_request", f"{text!r} is not a date") from None

    def _service_name(self, service: str) -> str:
        return self.config.service(service).name

    # ------------------------------------------------------------------ ops
    def _slots(self, env: Envelope) -> dict[str, Any]:
        req = model_of(env, SlotsRequest)
        rules = self._rules(req.service)
        day, today, now = self._day(req.date), self._today(), self.engine.now()
        slots = booking_rules.slots_on(self.config, rules, day)
        taken = self.bookings.taken(req.service, [s.start for s in slots])
        views = []
        for s in slots:
            booked = taken.get(s.start, 0)
            views.append(
                {
                    "start": s.start,
                    "end": s.end,
                    "label": s.label,
                    "kind": s.kind,
                    "capacity": s.capacity,
                    "booked": booked,
                    "free": max(0, s.capacity - booked),
                    "open": booking_rules.is_open_for_booking(rules, s, now, today, day),
                }
            )
        return as_data(
            Slots.model_validate(
                {
                    "service": req.service,
                    "service_name": self._service_name(req.service),
                    "date": day.isoformat(),
                    "days": [d.isoformat() for d in booking_rules.bookable_days(self.config, rules, today)],
                    "slots": views,
                }
            )
        )

    def _slot_at(self, rules: ServiceRules, start: float) -> tuple[Slot, dt.date]:
        day = self.engine.local(start).date()
        for s in booking_rules.slots_on(self.config, rules, day):
            if abs(s.start - start) < 0.5:
                return s, day
        raise BookingError(
            "slot_closed", f"no slot of {rules.service} starts at {self.engine.local(start):%Y-%m-%d %H:%M}"
        )

    def _book(self, env: Envelope) -> dict[str, Any]:
        req = model_of(env, Book)
        rules = self._rules(req.service)
        slot, day = self._slot_at(rules, req.slot_start)
        if not booking_rules.is_open_for_booking(rules, slot, self.engine.now(), self._today(), day):
            raise BookingError("slot_closed", f"slot {day} {slot.label} is not open for booking")
        done = self.bookings.book(slot, req.phone, env.sender, self.settings.max_per_phone)
        return as_data(
            Booked.model_validate(
                {
                    **done,
                    "service": slot.service,
                    "service_name": self._service_name(slot.service),
                    "slot_start": slot.start,
                    "slot_end": slot.end,
                    "label": slot.label,
                    "date": day.isoformat(),
                    "kind": slot.kind,
                }
            )
        )

    def _cancel(self, env: Envelope) -> dict[str, Any]:
        req = model_of(env, Cancel)
        if req.phone_last4 is None and req.cancel_token is None:
            raise BookingError("invalid_request", "give phone_last4 or cancel_token")
        return as_data(Cancelled.model_validate(self.bookings.cancel(req.code, req.phone_last4, req.cancel_token)))

    def _list(self, env: Envelope) -> dict[str, Any]:
        req = model_of(env, ListRequest)
        day = self._day(req.date)
        tz = self.config.tz()
        start = dt.datetime.combine(day, dt.time(0, 0), tz).timestamp()
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0), tz).timestamp()
        now = self.engine.now()
        rows = [r for r in self.bookings.between(start, end) if req.service in (None, r["service"])]
        groups: dict[tuple[str, float], dict[str, Any]] = {}
        for rules in self.settings.services:
            if req.service not in (None, rules.service):
                continue
            for s in booking_rules.slots_on(self.config, rules, day):
                groups[(s.service, s.start)] = _group(
                    self._service_name(s.service), s.service, s.start, s.end, s.label, s.kind, s.capacity
                )
        totals = {"booked": 0, "checked_in": 0, "no_show": 0, "cancelled": 0}
        for r in rows:
            key = (r["service"], float(r["slot_start"]))
            if key not in groups:  # a slot the rules no longer have: still listed
                local = self.engine.local(r["slot_start"]), self.engine.local(r["slot_end"])
                label = f"{local[0]:%H:%M}-{local[1]:%H:%M}"
                groups[key] = _group(
                    self._service_name(r["service"]), r["service"], r["slot_start"], r["slot_end"], label, r["kind"], 0
                )
            state = booking_state(r["state"], r["ticket"], r["ticket_state"], r["slot_end"], now)
            g = groups[key]
            for counter in {"booked" if state != "cancelled" else state, state}:
                g[counter] += 1
                totals[counter] += 1
            g["bookings"].append(
                {
                    "code": r["code"],
                    "service": r["service"],
                    "slot_start": r["slot_start"],
                    "state": state,
                    "phone_masked": r["phone_masked"],
                    "channel": r["channel"],
                    **({"ticket": r["ticket_code"]} if r["ticket_code"] else {}),
                }
            )
        slots = sorted(groups.values(), key=lambda g: (g["start"], g["service"]))
        return as_data(BookingList.model_validate({"date": day.isoformat(), "slots": slots, "totals": totals}))

    def _report(self, env: Envelope) -> dict[str, Any]:
        """Appointments kept (预约履约) over ``from_day .. to_day``: one ``GROUP BY`` in the store by
        service, slot and state (the states of ``booking.list``), folded here into the hall's local
        days, ISO weeks or months, where SQLite cannot name the key (time zone, daylight saving)."""
        req = model_of(env, ReportRequest)
        first, last = ranges.days_of(req.from_day, req.to_day)  # invalid_range, range_too_long
        if req.service is not None and req.service not in {s.id for s in self.config.services}:
            raise BookingError("not_found", f"no service {req.service!r} in this hall")
        tz = self.config.tz()
        start = dt.datetime.combine(first, dt.time(0, 0), tz).timestamp()
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0, 0), tz).timestamp()
        by_slot = req.group != "service"
        sums: dict[str, dict[str, int]] = {}
        for service, slot_start, state, n in self.bookings.counts(start, end, self.engine.now(), by_slot, req.service):
            key = service if slot_start is None else _period(req.group, self.engine.local(slot_start).date())
            acc = sums.setdefault(key, dict.fromkeys(STATES, 0))
            acc[state] += n
        rows = [{"key": k, "label": self._label(req.group, k), **_kept(sums[k])} for k in sorted(sums)]
        totals = _kept({s: sum(acc[s] for acc in sums.values()) for s in STATES})
        answer = {
            "hall": self.config.hall_id,
            "from_day": first.isoformat(),
            "to_day": last.isoformat(),
            "group": req.group,
            "service": req.service,
            "rows": rows,
            "totals": totals,
        }
        return as_data(BookingReport.model_validate(answer))

    def stop(self) -> None:
        """Nothing runs in the background."""


def _group(name: str, service: str, start: float, end: float, label: str, kind: str, capacity: int) -> dict[str, Any]:
    return {
        "service": service,
        "service_name": name,
        "start": start,
        "end": end,
        "label": label,
        "kind": kind,
        "capacity": capacity,
        "booked": 0,
        "checked_in": 0,
        "no_show": 0,
        "cancelled": 0,
        "bookings": [],
    }


STATES = ("booked", "checked_in", "no_show", "cancelled")


def _period(group: str, day: dt.date) -> str:
    """The key of a local date: the day itself, its ISO week (2026-W48) or its month (2026-11)."""
    if group == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return day.isoformat()[:7] if group == "month" else day.isoformat()


def _kept(counts: dict[str, int]) -> dict[str, Any]:
    """The figures of a group: its counts, their total and the no-show rate (爽约率) among the
    bookings whose time has come and that were not cancelled."""
    due = counts["checked_in"] + counts["no_show"]
    rate = round(counts["no_show"] / due, 4) if due else None
    return {"total": sum(counts.values()), **counts, "no_show_rate": rate}


SPEC = FeatureSpec(
    name="booking",
    summary="预约: appointment slots, race-free booking and cancelling, bookings per slot, appointments kept",
    attach=BookingFeature,
    ops=("booking.slots", "booking.book", "booking.cancel", "booking.list", "booking.report"),
    contracts=booking_contracts.CONTRACTS,
    requires=(),
    migrations=tuple(MIGRATIONS),
)
