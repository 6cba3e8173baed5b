"""The settings of tidal windows, the ``[tidal]`` section of hall.toml (read by ``.config``).

[tidal]
mode = "propose"            # off | propose | auto
policy = "threshold"        # threshold | flexible
threshold_min = 15          # a domain whose expected wait passes this asks for a window
hysteresis = 5              # minutes of margin (donors must stay this far below the threshold)
min_dwell_min = 30          # a window stays this long in a domain before it moves again
min_windows_per_domain = 1  # never take the last window(s) of a domain
publish_every_s = 5         # retained load/proposals republished this often (and on change)
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

MODES = ("off", "propose", "auto")
RELEASES = ("calm", "home", "both", "never")


@dataclass(frozen=True)
class TidalSettings:
    mode: str = "propose"
    policy: str = "threshold"
    threshold_min: float = 15.0
    hysteresis: float = 5.0
    min_dwell_min: float = 30.0
    min_windows_per_domain: int = 1
    max_domains_per_window: int = 3  # a shared window serves at most this many domains
    idle_share: bool = True  # an idle window with an empty home queue shares a queueing skill domain
    swap_when_full: bool = True  # a full window drops its oldest borrowed domain to help a hotter one
    release: str = "calm"  # drop a borrowed domain when: calm (tide ebbs) | home (home needs the window) | both | never
    publish_every_s: float = 5.0
    evaluate_every_s: float = 30.0  # how often the policy is consulted on a live hall
    proposal_ttl_min: float = 10.0  # a pending proposal nobody decides on expires after this
    horizon_min: float = 15.0  # look-ahead for the projected wait (arrivals vs capacity)
    arrival_window_min: float = 30.0  # sliding window of the arrival-rate meter
    prior_weight: float = 5.0  # how many observations the configured expected_minutes are worth
    cost_weights: dict[str, float] = field(default_factory=dict)  # waiting-cost weight per domain (flexible rule)

    def replace(self, **changes: Any) -> TidalSettings:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data.update(changes)
        return TidalSettings(**data)
