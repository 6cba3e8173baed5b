"""The load model's handling-time estimator and arrival meter, alone and fed by the real queue engine."""

from __future__ import annotations

import random

from hall_bus.features.tidal.load import ArrivalMeter, HandlingEstimator, LoadModel
from hall_bus.features.tidal.settings import TidalSettings


def test_estimator_starts_from_the_configured_minutes(engine_hall):
    est = HandlingEstimator(engine_hall.config)
    assert est.expected_minutes("shebao-card") == 8.0
    assert est.expected_minutes("no-such-service") == engine_hall.config.queue.default_expected_minutes


def test_estimator_learns_the_real_handling_time(engine_hall):
    est = HandlingEstimator(engine_hall.config, prior_weight=5)
    rng = random.Random(7)
    xs = [rng.uniform(10.0, 14.0) for _ in range(60)]  # really about 12 minutes; configured 8
    for x in xs:
        est.observe("shebao-card", x)
    # shrunk towards the prior by 5 observations' worth: (5 * 8 + 60 * ~12) / 65
    assert 11.3 < est.expected_minutes("shebao-card") < 12.0


def test_estimator_is_robust_to_outliers(engine_hall):
    est = HandlingEstimator(engine_hall.config, prior_weight=5)
    for _ in range(40):
        est.observe("shebao-card", 10.0)
    clean = est.expected_minutes("shebao-card")
    # a clerk forgot to press finish three times (3-hour "services") and double-pressed call twice
    for minutes in (180.0, 200.0, 170.0, 0.01, 0.02):
        est.observe("shebao-card", minutes)
    noisy = est.expected_minutes("shebao-card")
    assert abs(noisy - clean) < 0.5, (clean, noisy)
    # a plain mean would have been dragged to ~22 minutes
    assert noisy < 11


def test_estimator_ignores_impossible_durations(engine_hall):
    est = HandlingEstimator(engine_hall.config)
    est.observe("shebao-card", -3.0)
    est.observe("shebao-card", float("nan"))
    est.observe("shebao-card", 10_000.0)
    assert est.count("shebao-card") == 0
    assert est.expected_minutes("shebao-card") == 8.0


def test_arrival_meter_counts_over_a_sliding_window():
    meter = ArrivalMeter(window_min=30)
    t0 = 1_000_000.0
    for i in range(60):  # one every minute for an hour
        meter.observe("shebao", "shebao-card", t0 + i * 60)
    now = t0 + 59 * 60
    assert 58 <= meter.rate_per_h("shebao", now) <= 62
    assert meter.rate_per_h("yibao", now) == 0.0
    assert meter.rate_per_h("shebao", now + 3600) == 0.0  # the window slid past every arrival


def test_load_model_learns_from_finished_tickets_of_the_engine(engine_hall):
    eng, clock = engine_hall.engine, engine_hall.clock
    model = LoadModel(engine_hall.config, eng, TidalSettings(prior_weight=2))
    eng.listeners.append(model.on_change)
    engine_hall.issue("yibao-reimburse", 6)
    for _ in range(6):
        eng.call_next(3)
        eng.start(3)
        clock.advance(20)  # configured 12 minutes; every one takes 20
        eng.finish(3)
    assert model.estimator.count("yibao-reimburse") == 6
    assert 17.0 < model.estimator.expected_minutes("yibao-reimburse") < 20.0
    engine_hall.issue("yibao-reimburse", 4)
    load = model.compute()
    yibao = load.domains["yibao"]
    assert yibao.waiting == 4
    # windows 2 (shared with shebao: half) and 3 serve 医保: 1.5 window-equivalents
    assert yibao.capacity == 1.5
    # the one estimate: both windows are free and nobody waits for 社保, so the four tickets go two
    # by two; a ticket taken now is called after two rounds of the learned handling time
    h = model.estimator.expected_minutes("yibao-reimburse")
    assert abs(yibao.expected_wait_min - 2 * h) < 1e-9
    assert abs(yibao.work_min - 4 * h) < 1e-9
    assert yibao.arrival_rate_per_h > 0


def test_load_model_seeds_itself_from_the_store_after_a_restart(engine_hall):
    eng, clock = engine_hall.engine, engine_hall.clock
    engine_hall.issue("gongan-hukou", 3)
    for _ in range(3):
        eng.call_next(5)
        clock.advance(15)
        eng.finish(5)  # finished straight from called: service counted from the call
    fresh = LoadModel(engine_hall.config, eng, TidalSettings(prior_weight=1))
    fresh.seed_from_store()
    assert fresh.estimator.count("gongan-hukou") == 3
    assert (
        abs(fresh.estimator.expected_minutes("gongan-hukou") - (1 * 10 + 3 * 15) / 4) < 1e-6
    )  # prior 10 min, weight 1
