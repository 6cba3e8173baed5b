"""Tidal policies on synthetic loads and on the real engine: hysteresis, dwell, skills, minimum windows."""

from __future__ import annotations

import random

import pytest
from conftest import make_load

from hall_bus.features.tidal.policies import FlexiblePolicy, PolicyContext, ThresholdPolicy, create, policy_names
from hall_bus.features.tidal.proposals import TidalManager
from hall_bus.features.tidal.settings import TidalSettings

S = TidalSettings(threshold_min=15, hysteresis=5, min_dwell_min=30, horizon_min=0, max_domains_per_window=3)


def ctx(config, settings=S, now=100_000.0, **kw) -> PolicyContext:
    return PolicyContext(config, settings, now, **kw)


# windows: (number, domains, skills, home)
HALL = [
    (1, ["shebao"], ["shebao", "yibao", "zonghe"], ["shebao"]),
    (2, ["shebao"], ["shebao", "yibao", "zonghe"], ["shebao"]),
    (3, ["yibao"], ["shebao", "yibao", "zonghe"], ["yibao"]),
    (4, ["budongchan"], ["budongchan", "zonghe"], ["budongchan"]),
    (5, ["gongan"], ["gongan", "zonghe"], ["gongan"]),
    (6, ["zonghe"], ["zonghe", "shuiwu"], ["zonghe"]),
]
CALM = (0, 0.0, 0.0, 8.0)


def test_registry_has_both_policies():
    assert {"threshold", "flexible"} <= set(policy_names())
    assert isinstance(create("threshold"), ThresholdPolicy)
    with pytest.raises(KeyError):
        create("coin-flip")


def test_threshold_moves_a_skilled_window_into_the_hot_domain(engine_hall):
    load = make_load(
        {
            "shebao": (20, 200.0, 0, 10),
            "yibao": CALM,
            "budongchan": CALM,
            "gongan": CALM,
            "shuiwu": CALM,
            "zonghe": CALM,
        },
        HALL,
    )
    moves = ThresholdPolicy().plan(load, ctx(engine_hall.config))
    assert moves, "社保 waits 100 min on two windows; somebody must help"
    for m in moves:
        w = load.windows[m.window]
        assert m.target == "shebao" and "shebao" in w.skills
        assert set(m.to_domains) <= set(w.skills)
    assert {m.window for m in moves} <= {3}  # only window 3's clerk has the 社保 skill among the others
    assert "社保" in moves[0].reason and "expected wait" in moves[0].reason_en


def test_threshold_honours_skills_on_random_loads(engine_hall):
    rng = random.Random(3)
    doms = ["shebao", "yibao", "budongchan", "gongan", "shuiwu", "zonghe"]
    for _ in range(200):
        spec = {
            d: (n := rng.randint(0, 30), n * rng.uniform(3, 20), rng.uniform(0, 40), rng.uniform(3, 20)) for d in doms
        }
        load = make_load(spec, HALL, horizon_min=15)
        for policy in (ThresholdPolicy(), FlexiblePolicy()):
            for m in policy.plan(load, ctx(engine_hall.config)):
                assert set(m.to_domains) <= set(load.windows[m.window].skills), (policy.name, m)


def test_no_flapping_under_a_steady_load(engine_hall):
    """Apply what the policy wants, then ask again and again under the same load: nothing moves back."""
    spec = {
        "shebao": (12, 120.0, 0, 10),
        "yibao": (1, 8.0, 0, 8),
        "budongchan": CALM,
        "gongan": CALM,
        "shuiwu": CALM,
        "zonghe": (1, 5.0, 0, 5),
    }
    load = make_load(spec, HALL)
    policy, now = ThresholdPolicy(), 100_000.0
    history: dict[int, list[tuple[str, ...]]] = {}
    for step in range(30):  # 30 evaluations, a minute apart
        moves = policy.plan(load, ctx(engine_hall.config, now=now + step * 60))
        for m in moves:
            history.setdefault(m.window, []).append(tuple(m.to_domains))
            load = load.with_domains(m.window, m.to_domains)
            w = load.windows[m.window]
            load.windows[m.window] = type(w)(**{**w.__dict__, "last_move_at": now + step * 60})
    assert history, "the policy did nothing at all"
    for window, seq in history.items():
        assert len(seq) == 1, f"window {window} flapped: {seq}"


def test_hysteresis_band_keeps_borrowed_windows(engine_hall):
    """A window shared into 社保 stays there while 社保 hovers around the threshold (inside the band)."""
    rng = random.Random(11)
    windows = [w if w[0] != 3 else (3, ["yibao", "shebao"], w[2], ["yibao"], "serving", 0.0) for w in HALL]
    policy = ThresholdPolicy()
    settings = S.replace(release="both")
    for _ in range(100):
        shebao_wait = rng.uniform(S.threshold_min - S.hysteresis + 1, S.threshold_min + 3)  # around the threshold
        cap = 2.5  # windows 1, 2 and half of 3
        spec = {
            "shebao": (10, shebao_wait * cap, 0, 10),
            "yibao": (1, rng.uniform(0, 4), 0, 8),
            "budongchan": CALM,
            "gongan": CALM,
            "shuiwu": CALM,
            "zonghe": CALM,
        }
        load = make_load(spec, windows)
        for m in policy.plan(load, ctx(engine_hall.config, settings=settings)):
            assert m.window != 3, f"window 3 flapped back inside the hysteresis band: {m}"


def test_dwell_time_blocks_a_recent_mover(engine_hall):
    spec = {
        "shebao": (20, 200.0, 0, 10),
        "yibao": CALM,
        "budongchan": CALM,
        "gongan": CALM,
        "shuiwu": CALM,
        "zonghe": CALM,
    }
    now = 100_000.0
    moved_recently = [w if w[0] != 3 else (*w, "serving", now - 10 * 60) for w in HALL]
    assert ThresholdPolicy().plan(make_load(spec, moved_recently, at=now), ctx(engine_hall.config, now=now)) == []
    moved_long_ago = [w if w[0] != 3 else (*w, "serving", now - 31 * 60) for w in HALL]
    assert ThresholdPolicy().plan(make_load(spec, moved_long_ago, at=now), ctx(engine_hall.config, now=now))


def test_minimum_windows_per_domain_is_kept(engine_hall):
    """The flexible rule moves whole windows: it never strips a domain below its minimum."""
    windows = [
        (1, ["shebao"], ["shebao", "yibao"], ["shebao"]),
        (2, ["yibao"], ["shebao", "yibao"], ["yibao"]),
        (3, ["yibao"], ["shebao", "yibao"], ["yibao"]),
    ]
    spec = {
        "shebao": (30, 300.0, 0, 10),
        "yibao": (1, 8.0, 0, 8),
        "budongchan": CALM,
        "gongan": CALM,
        "shuiwu": CALM,
        "zonghe": CALM,
    }
    load = make_load(spec, windows)
    load.domains["shebao"].oldest_wait_min = 60.0
    load.domains["yibao"].oldest_wait_min = 1.0
    two = ctx(engine_hall.config, settings=S.replace(min_windows_per_domain=2))
    assert FlexiblePolicy().plan(load, two) == []
    one = ctx(engine_hall.config, settings=S.replace(min_windows_per_domain=1))
    moves = FlexiblePolicy().plan(load, one)
    assert len(moves) == 1 and moves[0].window in (2, 3) and moves[0].to_domains == ["shebao"]
    after = load.with_domains(moves[0].window, moves[0].to_domains)
    assert len(after.windows_serving("yibao")) == 1


def test_release_never_leaves_a_domain_without_its_minimum(engine_hall):
    # window 3 borrowed 社保 and is now the only window serving it (1 and 2 are paused)
    windows = [
        (1, ["shebao"], ["shebao", "yibao"], ["shebao"], "paused"),
        (2, ["shebao"], ["shebao", "yibao"], ["shebao"], "paused"),
        (3, ["yibao", "shebao"], ["shebao", "yibao"], ["yibao"]),
    ]
    spec = {
        "shebao": CALM,
        "yibao": (30, 300.0, 0, 10),
        "budongchan": CALM,
        "gongan": CALM,
        "shuiwu": CALM,
        "zonghe": CALM,
    }
    load = make_load(spec, windows)
    assert ThresholdPolicy().plan(load, ctx(engine_hall.config, settings=S.replace(release="both"))) == []
    none_needed = ctx(engine_hall.config, settings=S.replace(release="both", min_windows_per_domain=0))
    moves = ThresholdPolicy().plan(load, none_needed)
    assert [(m.window, m.to_domains, m.kind) for m in moves] == [(3, ["yibao"], "return")]


def test_manager_on_the_engine_is_steady_under_steady_load(engine_hall):
    """Real engine, automatic mode: a steady queue gets one move, then nothing for an hour."""
    eng, clock = engine_hall.engine, engine_hall.clock
    mgr = TidalManager(
        engine_hall.config,
        eng,
        TidalSettings(mode="auto", threshold_min=15, hysteresis=5, min_dwell_min=30, horizon_min=0),
    )
    engine_hall.issue("shebao-card", 20)
    first = mgr.evaluate()
    assert [m.window for m in first] == [3]
    for _ in range(60):
        clock.advance(1)
        engine_hall.issue("shebao-card", 0)
        assert mgr.evaluate() == []
    assert eng.window(3).domains == ["yibao", "shebao"]


def test_borrowed_window_returns_once_the_tide_has_ebbed(engine_hall):
    """The other side of the band: with 社保 calm and 医保 queueing, window 3 goes home."""
    windows = [w if w[0] != 3 else (3, ["yibao", "shebao"], w[2], ["yibao"], "serving", 0.0) for w in HALL]
    spec = {
        "shebao": (0, 0.0, 0, 10),
        "yibao": (10, 200.0, 0, 8),
        "budongchan": CALM,
        "gongan": CALM,
        "shuiwu": CALM,
        "zonghe": CALM,
    }
    moves = ThresholdPolicy().plan(
        make_load(spec, windows), ctx(engine_hall.config, settings=S.replace(release="both"))
    )
    assert (moves[0].window, moves[0].to_domains, moves[0].kind) == (3, ["yibao"], "return")
    assert "回归" in moves[0].reason
    assert all(m.kind == "borrow" and m.target == "yibao" for m in moves[1:])  # 医保 is still hot: others help
