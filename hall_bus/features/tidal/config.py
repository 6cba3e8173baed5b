"""Reading ``[tidal]`` of hall.toml into :class:`~hall_bus.features.tidal.settings.TidalSettings`,
with ConfigError naming the file and key (the policy name is checked against the registered policies).
"""
from __future__ import annotations

from dataclasses import fields
from typing import Any

from hall_bus.config import ConfigError, HallConfig
from hall_bus.features.tidal.policies import policy_names
from hall_bus.features.tidal.settings import MODES, RELEASES, TidalSettings

_NUMBERS = {
    "threshold_min": (0.5, 480.0), "hysteresis": (0.0, 240.0), "min_dwell_min": (0.0, 480.0),
    "publish_every_s": (0.5, 3600.0), "evaluate_every_s": (1.0, 3600.0), "proposal_ttl_min": (0.5, 480.0),
    "horizon_min": (0.0, 240.0), "arrival_window_min": (1.0, 480.0), "prior_weight": (0.0, 1000.0),
}


def parse(section: Any, config: HallConfig, path: str = "tidal") -> TidalSettings:
    """Validate a raw ``[tidal]`` table; raise ConfigError naming file and key on any problem."""
    src = config.source
    if section is None:
        return TidalSettings()
    if not isinstance(section, dict):
        raise ConfigError(src, path, "must be a table ([tidal])")
    allowed = {f.name for f in fields(TidalSettings)}
    for key in section:
        if key not in allowed:
            raise ConfigError(src, f"{path}.{key}", f"unknown key (allowed: {', '.join(sorted(allowed))})")
    out: dict[str, Any] = {}
    if "mode" in section:
        if section["mode"] not in MODES:
            raise ConfigError(src, f"{path}.mode", f"{section['mode']!r}: must be off|propose|auto")
        out["mode"] = section["mode"]
    if "policy" in section:
        names = policy_names()
        if section["policy"] not in names:
            raise ConfigError(src, f"{path}.policy", f"{section['policy']!r}: must be one of {'|'.join(names)}")
        out["policy"] = section["policy"]
    for key, (lo, hi) in _NUMBERS.items():
        if key in section:
            v = section[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ConfigError(src, f"{path}.{key}", f"must be a number, got {type(v).__name__} {v!r}")
            if not lo <= v <= hi:
                raise ConfigError(src, f"{path}.{key}", f"{v} outside {lo:g}..{hi:g}")
            out[key] = float(v)
    if "min_windows_per_domain" in section:
        v = section["min_windows_per_domain"]
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 50:
            raise ConfigError(src, f"{path}.min_windows_per_domain", f"must be an integer 0..50, got {v!r}")
        out["min_windows_per_domain"] = v
    if "max_domains_per_window" in section:
        v = section["max_domains_per_window"]
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 20:
            raise ConfigError(src, f"{path}.max_domains_per_window", f"must be an integer 1..20, got {v!r}")
        out["max_domains_per_window"] = v
    if "release" in section:
        if section["release"] not in RELEASES:
            raise ConfigError(src, f"{path}.release", f"{section['release']!r}: must be {'|'.join(RELEASES)}")
        out["release"] = section["release"]
    for key in ("swap_when_full", "idle_share"):
        if key in section:
            if not isinstance(section[key], bool):
                raise ConfigError(src, f"{path}.{key}", f"must be true or false, got {section[key]!r}")
            out[key] = section[key]
    if "cost_weights" in section:
        cw = section["cost_weights"]
        if not isinstance(cw, dict):
            raise ConfigError(src, f"{path}.cost_weights", "must be a table {domain = weight}")
        known = [d.id for d in config.domains]
        for k, v in cw.items():
            if k not in known:
                raise ConfigError(src, f"{path}.cost_weights.{k}", f"unknown domain {k!r} (known: {', '.join(known)})")
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 100:
                raise ConfigError(src, f"{path}.cost_weights.{k}", f"must be a number in (0, 100], got {v!r}")
        out["cost_weights"] = {k: float(v) for k, v in cw.items()}
    return TidalSettings(**out)


def from_config(config: HallConfig) -> TidalSettings:
    return parse(config.extra.get("tidal"), config)
