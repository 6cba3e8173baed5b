"""The roles table names every operation, and only operations that exist."""

from __future__ import annotations

from pathlib import Path

from hall_bus import config as hallconfig
from hall_bus.contracts import registry
from hall_bus.contracts.roles import OPS, ROLES, ops_of, principal_of


def test_every_operation_names_its_roles_and_effect() -> None:
    assert sorted(OPS) == sorted(registry().requests)
    for op, rule in OPS.items():
        assert rule.roles, op
        assert set(rule.roles) <= set(ROLES), op
        assert rule.effect in ("read", "atomic", "journaled"), op


def test_what_a_kiosk_may_never_do() -> None:
    kiosk = set(ops_of("kiosk"))
    for op in ("window.call", "window.assign", "window.pause", "pickup.return", "audit.list", "locker.open"):
        assert op not in kiosk
    assert {"ticket.issue", "appointment.lookup", "case.lookup", "pickup.identify", "pickup.open"} <= kiosk
    assert all(OPS[op].effect == "read" for op in ops_of("display"))


def test_roles_come_from_the_client_id_and_hall_toml(hall_toml: Path) -> None:
    cfg = hallconfig.load(hall_toml)
    assert principal_of(cfg, "kiosk-1").role == "kiosk"
    assert (principal_of(cfg, "window-3").role, principal_of(cfg, "window-3").window) == ("window", 3)
    assert principal_of(cfg, "window-99").role is None  # no such window in this hall
    assert principal_of(cfg, "lockers-a").role == "locker"
    assert principal_of(cfg, "kiosk-1-idcard").role is None
    assert principal_of(cfg, "manager").role == "manager"
