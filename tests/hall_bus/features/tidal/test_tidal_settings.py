"""The [tidal] section of hall.toml is validated with errors naming file and key."""

from __future__ import annotations

import pytest

from hall_bus import config as hallconfig
from hall_bus.config import ConfigError
from hall_bus.features.tidal.config import from_config, parse


def test_shipped_hall_toml_has_a_valid_tidal_section(hall_toml):
    s = from_config(hallconfig.load(hall_toml))
    assert s.mode == "propose" and s.policy == "threshold" and s.publish_every_s > 0


@pytest.mark.parametrize(
    "section, key",
    [
        ({"mode": "sometimes"}, "tidal.mode"),
        ({"policy": "coin-flip"}, "tidal.policy"),
        ({"threshold_min": "15"}, "tidal.threshold_min"),
        ({"hysteresis": -1}, "tidal.hysteresis"),
        ({"min_windows_per_domain": 1.5}, "tidal.min_windows_per_domain"),
        ({"publish_every_s": 0}, "tidal.publish_every_s"),
        ({"cost_weights": {"nowhere": 2}}, "tidal.cost_weights.nowhere"),
        ({"treshold_min": 15}, "tidal.treshold_min"),
    ],
)
def test_bad_values_are_refused_with_the_key(hall_toml, section, key):
    cfg = hallconfig.load(hall_toml)
    with pytest.raises(ConfigError) as err:
        parse(section, cfg)
    assert err.value.key == key and str(hall_toml) in str(err.value)


def test_controller_refuses_to_start_on_a_bad_tidal_section(tmp_hall, bus_factory):
    from hall_bus.controller.service import HallController

    text = tmp_hall.read_text(encoding="utf-8").replace('mode = "propose"', 'mode = "sometimes"')
    tmp_hall.write_text(text, encoding="utf-8")
    cfg = hallconfig.load(tmp_hall)
    with pytest.raises(ConfigError, match="tidal.mode"):
        HallController(cfg, bus_factory("controller")).attach_features()
