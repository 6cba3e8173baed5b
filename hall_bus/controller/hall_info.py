"""``hall.info``: the hall as a station needs it, built from hall.toml and the engine's window states
(who serves what now, for the hours of each domain and window: :mod:`hall_bus.config.schedule`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hall_bus.config import WEEKDAY_KEYS, Domain, HallConfig, OpeningHours, Window, schedule
from hall_bus.contracts import queue as q
from hall_bus.features.evaluation.settings import load as evaluation_settings
from hall_bus.features.pickup.config import from_config as pickup_settings
from hall_bus.queue.engine import QueueEngine


def hall_info(c: HallConfig, engine: QueueEngine, enabled: list[str]) -> q.HallInfo:
    """What a station needs to run from its own small file (docs/deploy.md, "Station-only
    configuration"): the layout, the hours as data, the resident-code issuers' public keys, the
    enabled features' public settings. Nothing secret (salts, keys, passwords), no staff."""
    now = engine.local()
    today = now.date()
    current = engine.current_domains()
    walk, appt = schedule.hall_spans(c, today)
    return q.HallInfo(
        hall=c.hall_id,
        name=c.name,
        name_en=c.name_en,
        timezone=c.hours.timezone,
        open_now=schedule.hall_open(c, now, current),
        hours_today=schedule.describe(walk),
        appointments_today=schedule.describe(appt) if appt else "",
        hours=q.HallHours.model_validate(hours_table(c.hours)),
        domains=[_domain_info(c, d, now, current) for d in c.domains],
        services=[
            q.HallService(
                id=s.id,
                name=s.name,
                name_en=s.name_en,
                domain=s.domain,
                prefix=s.prefix,
                expected_minutes=s.expected_minutes,
                self_service=s.self_service,
            )
            for s in c.services
        ],
        windows=[_window_info(c, w, now) for w in c.windows],
        queue=q.HallQueueRules(appointment_early_minutes=c.queue.appointment_early_minutes),
        identity=q.HallIdentity(
            issuers=[q.HallIssuer(id=i.id, name=i.name, public_key=i.public_key) for i in c.identity.issuers],
            max_age_s=c.identity.max_age_s,
        ),
        features=_features_info(c, enabled),
    )


def _features_info(config: HallConfig, enabled: list[str]) -> q.HallFeatures:
    """The attached features, with the settings a kiosk or locker host needs of pickup and evaluation."""
    info = q.HallFeatures(enabled=enabled)
    if "pickup" in enabled:
        p = pickup_settings(config)
        info.pickup = q.HallPickup(
            code_digits=p.code_digits,
            session_ttl_s=p.session_ttl_s,
            door_open_alarm_s=p.door_open_alarm_s,
            lockers=[
                q.HallLockerBank(
                    id=b.id,
                    device=b.device,
                    name=b.name,
                    compartments=[
                        q.HallCompartment(no=x.no, board=x.board, lock=x.lock, size=x.size, position=x.position)
                        for x in b.compartments
                    ],
                )
                for b in p.banks
            ],
        )
    if "evaluation" in enabled:
        info.evaluation = q.HallEvaluation(timeout_s=evaluation_settings(config).timeout_s)
    return info


def _week(hours: OpeningHours | None) -> q.HallWeek | None:
    if hours is None:
        return None
    table = hours_table(hours)
    return q.HallWeek.model_validate({day: table[day] for day in WEEKDAY_KEYS})


def _domain_info(c: HallConfig, d: Domain, now: dt.datetime, current: dict[int, list[str]]) -> q.HallDomain:
    walk, appt = schedule.domain_spans(c, d.id, now.date(), current)
    return q.HallDomain(
        id=d.id,
        name=d.name,
        name_en=d.name_en,
        mode=schedule.domain_mode(c, d.id, now, current),
        hours_today=schedule.describe(walk),
        appointments_today=schedule.describe(appt) if appt else "",
        hours=_week(d.hours),
    )


def _window_info(c: HallConfig, w: Window, now: dt.datetime) -> q.HallWindow:
    walk, appt = schedule.window_spans(c, w, now.date())
    return q.HallWindow(
        number=w.number,
        name=w.name,
        domains=list(w.domains),
        skills=list(w.skills),
        mode=schedule.window_mode(c, w, now),
        hours_today=schedule.describe(walk),
        appointments_today=schedule.describe(appt) if appt else "",
        hours=_week(w.hours),
        appointment_hours=_week(w.appointment_hours),
    )


def hours_table(hours: OpeningHours) -> dict[str, Any]:
    """``[hall.hours]`` as hall.toml writes it (every weekday spelt out), for :func:`hall_bus.config.parse`."""

    def span(a: dt.time, b: dt.time) -> str:
        end = "24:00" if b >= dt.time(23, 59, 59) else f"{b:%H:%M}"
        return f"{a:%H:%M}-{end}"

    table: dict[str, Any] = {day: [span(a, b) for a, b in hours.week[i]] for i, day in enumerate(WEEKDAY_KEYS)}
    table["holidays"] = sorted(d.isoformat() for d in hours.holidays)
    table["workdays"] = sorted(d.isoformat() for d in hours.workdays)
    table["always_open"] = hours.always_open
    return table
