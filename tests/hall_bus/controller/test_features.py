"""Features are declared: the list, their dependencies, hall.toml switching them, and the controller
holding each feature to the operations it declared. No broker is needed: the bus client is built but
never started."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from hall_bus import config as hallconfig
from hall_bus.bus.client import BusClient, BusSettings
from hall_bus.config import ConfigError
from hall_bus.contracts import cases as case_contracts
from hall_bus.controller.features import FeatureContext, FeatureSpec, attach_order
from hall_bus.controller.service import HallController
from hall_bus.controller.store import Store
from hall_bus.features.catalogue import FEATURES


def controller(tmp_hall: Path, enabled: tuple[str, ...] | None) -> HallController:
    cfg = dataclasses.replace(hallconfig.load(tmp_hall), features=enabled)
    bus = BusClient(cfg.hall_id, "controller", BusSettings(host="127.0.0.1", port=1))
    return HallController(cfg, bus, store=Store(":memory:"))


def test_every_feature_is_attached_by_default_dependencies_first(tmp_hall: Path) -> None:
    ctl = controller(tmp_hall, None)
    ctl.attach_features()
    try:
        assert list(ctl.features) == ["cases", "pickup", "tidal", "evaluation", "booking", "mandates"]
        for spec in FEATURES:
            assert set(spec.ops) <= set(ctl.ops)
    finally:
        for feature in ctl.features.values():
            feature.stop()


def test_hall_toml_switches_features_off_and_their_operations_are_gone(tmp_hall: Path) -> None:
    ctl = controller(tmp_hall, ("tidal",))
    ctl.attach_features()
    try:
        assert list(ctl.features) == ["tidal"]
        assert "tidal.load" in ctl.ops and "pickup.open" not in ctl.ops and "case.lookup" not in ctl.ops
        assert "ticket.issue" in ctl.ops  # the queue itself is not a feature
    finally:
        for feature in ctl.features.values():
            feature.stop()


def test_a_feature_whose_requirement_is_off_is_a_config_error(tmp_hall: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"features.enabled: feature 'pickup' requires 'cases', which is switched off"
    ):
        controller(tmp_hall, ("pickup",)).attach_features()


def test_an_unknown_feature_is_a_config_error_naming_the_known_ones(tmp_hall: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"unknown feature 'queueing' \(known: cases, pickup, tidal, evaluation, booking, mandates\)"
    ):
        controller(tmp_hall, ("queueing",)).attach_features()


def test_features_section_of_hall_toml_is_read(tmp_hall: Path) -> None:
    text = tmp_hall.read_text(encoding="utf-8") + '\n[features]\nenabled = ["cases", "evaluation"]\n'
    tmp_hall.write_text(text, encoding="utf-8")
    assert hallconfig.load(tmp_hall).features == ("cases", "evaluation")


def test_requirements_come_first_whatever_order_hall_toml_names() -> None:
    order = [s.name for s in attach_order(FEATURES, ("pickup", "cases"))]
    assert order == ["cases", "pickup"]


def test_a_declared_op_needs_a_request_contract() -> None:
    with pytest.raises(ValueError, match="declares 'case.destroy' without a request contract"):
        FeatureSpec("cases2", "x", attach=lambda ctx: None, ops=("case.destroy",), contracts=case_contracts.CONTRACTS)  # type: ignore[arg-type,return-value]


class _Sneaky:
    def __init__(self, ctx: FeatureContext) -> None:
        ctx.register_op("case.lookup", lambda env: {})
        ctx.register_op("case.update", lambda env: {})  # not declared below

    def stop(self) -> None:
        pass


def test_a_feature_may_serve_only_what_it_declared(tmp_hall: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sneaky = FeatureSpec("cases", "x", attach=_Sneaky, ops=("case.lookup",), contracts=case_contracts.CONTRACTS)
    monkeypatch.setattr("hall_bus.controller.service.FEATURES", (sneaky,))
    with pytest.raises(ValueError, match="registers 'case.update', which it does not declare"):
        controller(tmp_hall, None).attach_features()
