"""A demo set of cases and appointments for the demo hall, bound to the synthetic ID cards of the reader
simulator.

The identity tokens are computed with the hall's own salt, so reading card 0 of the simulated deck at
a demo kiosk finds that person's cases (and locker items). No ID number is stored.

The demo appointments (预约) are booked for today around the time the demo starts, so a visitor can
check one in at the kiosk (预约签到) by typing its code; their codes use letters a printed keypad
would confuse (I, O) so the kiosk's keypad is put to the test.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from devices.identity import hall_salt, identity_token
from hall_bus.controller.service import HallController
from hall_bus.features.cases.feature import CasesFeature
from hall_bus.features.cases.store import CaseStore
from simulators.cards import DECK

# (case number, service, title, status, index of the synthetic card in simulators.cards.DECK or None)
DEMO_CASES = (
    ("SB20261101001", "shebao-card", "社保卡申领", "ready", 0),
    ("SB20261101002", "shebao-transfer", "养老保险关系转移", "processing", 1),
    ("YB20261102001", "yibao-reimburse", "医疗费用报销", "received", 3),
    ("BDC20261102001", "budongchan-register", "不动产权证书", "ready", 3),
    ("BDC20261103002", "budongchan-query", "不动产权属证明", "ready", 6),
    ("GA20261103001", "gongan-hukou", "户口簿换发", "ready", 1),
    ("GA20261104002", "gongan-hukou", "户籍证明", "processing", 6),
    ("SW20261104001", "shuiwu-invoice", "发票", "ready", 3),
    ("ZH20261105001", "zonghe-consult", "政策咨询书面答复", "closed", None),
    ("SB20261105003", "shebao-card", "社保卡补换", "ready", 0),
)


# (code, service, minutes from now the slot starts, slot minutes, index of the card in DECK or None)
DEMO_APPOINTMENTS = (
    ("YY2026A001", "budongchan-register", -10, 240, 3),
    ("YY2026B0I7", "shebao-transfer", 5, 240, 1),
    ("YY2026C0O9", "gongan-hukou", -30, 480, None),
)


def seed_appointments(
    controller: HallController, clock: Callable[[], float] = time.time
) -> list[tuple[str, str, float, float]]:
    """Book the demo appointments for today around ``clock()``; returns (code, service, start, end) of each.
    A code already booked is booked again (its slot moves to now), so a restarted demo can check it in."""
    now, salt = clock(), hall_salt(controller.config.data_dir)
    local = controller.engine.local(now)
    midnight = now - (local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6)
    booked = []
    for code, service, start_min, minutes, card in DEMO_APPOINTMENTS:
        # today in the hall's time zone, even a few minutes after midnight or before it
        start = min(max(now + start_min * 60.0, midnight + 1.0), midnight + 86_400.0 - 120.0)
        token = identity_token(DECK[card].id_number, salt) if card is not None else None
        controller.engine.add_appointment(code, service, start, start + minutes * 60.0, identity_token=token)
        booked.append((code, service, start, start + minutes * 60.0))
    return booked


def seed(cases: CaseStore, salt: bytes, actor: str = "demo") -> int:
    """Create the demo cases that do not exist yet; return how many were created."""
    created = 0
    for case_no, service, title, status, card in DEMO_CASES:
        if cases.row(case_no) is not None:
            continue
        token = identity_token(DECK[card].id_number, salt) if card is not None else None
        cases.upsert(case_no, "received", actor, service=service, identity_token=token, title=title, note="demo")
        if status != "received":
            cases.upsert(case_no, status, actor, note="demo")
        created += 1
    return created


def seed_demo_cases(controller: HallController, actor: str = "demo") -> int:
    """Load the demo cases into a running controller's case store (0 when the cases feature is off)."""
    feature = controller.features.get("cases")
    if not isinstance(feature, CasesFeature):
        return 0
    return seed(feature.cases, hall_salt(controller.config.data_dir), actor=actor)
