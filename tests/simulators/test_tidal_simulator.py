"""The hall traffic simulator: deterministic by seed, scenario errors named, the CLI summary line."""

from __future__ import annotations

import re

import pytest

from hall_bus.cli import main as cli
from hall_bus.config import ConfigError
from simulators.hall_traffic import citizens, simulate
from simulators.traffic_scenario import load_scenario
from tests.helpers import ROOT

STREET = ROOT / "simulators" / "scenarios" / "street.toml"


def test_same_seed_same_day_different_seed_different_day():
    sc = load_scenario(STREET)
    a, b, c = simulate(sc, "threshold", seed=5), simulate(sc, "threshold", seed=5), simulate(sc, "threshold", seed=6)
    assert a.waits == b.waits and a.moves == b.moves and a.utilisation == b.utilisation
    assert a.waits != c.waits
    assert a.issued > 50 and a.served + a.no_shows == a.issued


def test_every_strategy_sees_the_same_citizens():
    sc = load_scenario(STREET)
    people = citizens(sc, 9)
    assert people == citizens(sc, 9)
    results = {s: simulate(sc, s, seed=9) for s in ("static", "skills", "pooled", "threshold", "flexible")}
    assert len({r.issued for r in results.values()}) == 1
    assert results["static"].moves == 0 and results["pooled"].moves == 0 and results["skills"].moves == 0


def test_shipped_scenarios_load():
    for name in ("city", "district", "street"):
        sc = load_scenario(ROOT / "simulators" / "scenarios" / f"{name}.toml")
        assert sc.domains and sc.config.windows and sc.tidal.get("policy") == "threshold"


def test_scenario_errors_name_the_key(tmp_path):
    text = STREET.read_text(encoding="utf-8").replace('domain = "huji"\ndaily = 30', 'domain = "huji"\ndaily = "many"')
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"traffic\.domains\[2\]\.daily"):
        load_scenario(bad)
    bad.write_text(
        STREET.read_text(encoding="utf-8").replace('mode = "propose"', 'mode = "sometimes"'), encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"tidal\.mode"):
        simulate(bad, "threshold", seed=1)


def test_cli_simulate_prints_the_summary_line(capsys):
    rc = cli.main(["tidal", "simulate", "--scenario", str(STREET), "--policy", "threshold", "--seed", "3"])
    out = capsys.readouterr().out.strip().splitlines()
    assert rc == 0
    assert re.fullmatch(r"mean_wait_min=\d+\.\d+ p90_wait_min=\d+\.\d+ moves=\d+", out[-1])
    assert any(line.startswith("overall") for line in out) and any("utilisation" in line for line in out)
    rc = cli.main(["tidal", "simulate", "--scenario", str(STREET), "--policy", "coin-flip"])
    assert rc == 2 and "unknown strategy" in capsys.readouterr().err
