"""Reading ``[tidal]`` of hall.toml into :class:`~hall_bus.features.tidal.settings.TidalSettings`:
the pydantic model :class:`TidalSection` checks it, and ConfigError names the file and key (the
policy name is checked against the registered policies, ``cost_weights`` against the hall's domains).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ValidationInfo, field_validator

from hall_bus.config import ConfigError, HallConfig, Problem, Section, between, checked, int_between, rule
from hall_bus.features.tidal.policies import policy_names
from hall_bus.features.tidal.settings import MODES, RELEASES, TidalSettings


class TidalSection(Section):
    """``[tidal]``: every key optional, defaults in :class:`TidalSettings`."""

    mode: Annotated[str, rule(lambda v: v in MODES, lambda v: f"{v!r}: must be off|propose|auto")] = "propose"
    policy: Annotated[
        str, rule(lambda v: v in policy_names(), lambda v: f"{v!r}: must be one of {'|'.join(policy_names())}")
    ] = "threshold"
    threshold_min: Annotated[float, between(0.5, 480)] = 15.0
    hysteresis: Annotated[float, between(0, 240)] = 5.0
    min_dwell_min: Annotated[float, between(0, 480)] = 30.0
    min_windows_per_domain: Annotated[int, int_between(0, 50)] = 1
    max_domains_per_window: Annotated[int, int_between(1, 20)] = 3
    idle_share: bool = True
    swap_when_full: bool = True
    release: Annotated[str, rule(lambda v: v in RELEASES, lambda v: f"{v!r}: must be {'|'.join(RELEASES)}")] = "calm"
    publish_every_s: Annotated[float, between(0.5, 3600)] = 5.0
    evaluate_every_s: Annotated[float, between(1, 3600)] = 30.0
    proposal_ttl_min: Annotated[float, between(0.5, 480)] = 10.0
    horizon_min: Annotated[float, between(0, 240)] = 15.0
    arrival_window_min: Annotated[float, between(1, 480)] = 30.0
    prior_weight: Annotated[float, between(0, 1000)] = 5.0
    cost_weights: dict[
        str, Annotated[float, rule(lambda v: 0 < v <= 100, lambda v: f"must be a number in (0, 100], got {v!r}")]
    ] = {}

    @field_validator("cost_weights")
    @classmethod
    def _known_domains(cls, weights: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        config = (info.context or {}).get("config")
        known = [d.id for d in config.domains] if config is not None else list(weights)
        for k in weights:
            if k not in known:
                raise Problem((k,), f"unknown domain {k!r} (known: {', '.join(known)})")
        return weights


def parse(section: Any, config: HallConfig, path: str = "tidal") -> TidalSettings:
    """Validate a raw ``[tidal]`` table; raise ConfigError naming file and key on any problem."""
    if section is None:
        return TidalSettings()
    if not isinstance(section, dict):
        raise ConfigError(config.source, path, "must be a table ([tidal])")
    return TidalSettings(**checked(TidalSection, section, config.source, path, {"config": config}).model_dump())


def from_config(config: HallConfig) -> TidalSettings:
    return parse(config.extra.get("tidal"), config)
