"""``[backup]`` and ``[monitoring]`` of hall.toml, checked by the pydantic models below (like the
features' sections, read from ``config.extra``).

```toml
[backup]
dir = "/var/backups/hallkit"   # default: <data_dir>/backups (better: another disk)
keep = 14                      # complete backups kept; older ones are deleted after a new one

[monitoring]
enabled = true                 # default false: no endpoint
host = "127.0.0.1"
port = 9464
wait_target_min = 30           # the wait a hall promises; hallkit_wait_target_seconds
wait_targets = { budongchan = 45 }   # per domain
clock_skew_warn_s = 30         # a station's clock this far off the controller's is a warning
                               # (default: half of [bus] max_clock_skew_s, beyond which requests are refused)
clock_skew_log_every_s = 600   # the warning is logged at most this often per station
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import ValidationInfo, field_validator

from hall_bus.config import ConfigError, HallConfig, Problem, Section, between, checked, int_between, rule

DEFAULT_PORT = 9464  # the port Prometheus' port allocation list gives no one; the exporter convention


class BackupSection(Section):
    dir: Annotated[str, rule(lambda v: v.strip() != "", "must not be empty (leave the key out for the default)")] = (
        "backups"
    )
    keep: Annotated[int, int_between(1, 1000)] = 14


class MonitoringSection(Section):
    enabled: bool = False
    host: Annotated[str, rule(lambda v: v.strip() != "", "must be an address, e.g. 127.0.0.1")] = "127.0.0.1"
    port: Annotated[int, int_between(0, 65535)] = DEFAULT_PORT  # 0: any free port (tests)
    wait_target_min: Annotated[float, between(1, 480)] = 30.0
    wait_targets: dict[str, Annotated[float, between(1, 480)]] = {}
    clock_skew_warn_s: Annotated[float, between(0.1, 3600)] | None = None
    clock_skew_log_every_s: Annotated[float, between(1, 86400)] = 600.0

    @field_validator("wait_targets")
    @classmethod
    def _known_domains(cls, targets: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        known = (info.context or {}).get("domains", list(targets))
        for k in targets:
            if k not in known:
                raise Problem((k,), f"unknown domain {k!r} (known: {', '.join(known)})")
        return targets


@dataclass(frozen=True)
class BackupSettings:
    dir: Path
    keep: int


@dataclass(frozen=True)
class MonitoringSettings:
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    wait_target_min: float = 30.0
    wait_targets: dict[str, float] = field(default_factory=dict)
    clock_skew_warn_s: float = 30.0
    clock_skew_log_every_s: float = 600.0

    def target_s(self, domain: str) -> float:
        return 60.0 * self.wait_targets.get(domain, self.wait_target_min)


def _table(config: HallConfig, name: str) -> dict[str, Any]:
    raw = config.extra.get(name, {})
    if not isinstance(raw, dict):
        raise ConfigError(config.source, name, f"must be a table ([{name}])")
    return raw


def backup_settings(config: HallConfig) -> BackupSettings:
    """``[backup]``; a relative ``dir`` is below the hall's data_dir."""
    sec = checked(BackupSection, _table(config, "backup"), config.source, "backup")
    where = Path(sec.dir).expanduser()
    return BackupSettings(where if where.is_absolute() else Path(config.data_dir) / where, sec.keep)


def monitoring_settings(config: HallConfig) -> MonitoringSettings:
    context = {"domains": [d.id for d in config.domains]}
    sec = checked(MonitoringSection, _table(config, "monitoring"), config.source, "monitoring", context)
    warn = sec.clock_skew_warn_s if sec.clock_skew_warn_s is not None else config.bus.max_clock_skew_s / 2
    return MonitoringSettings(**{**sec.model_dump(), "clock_skew_warn_s": warn})
