"""The minimal tiers' thresholds follow the delay level (models/threshold_rules.py): the rule
moves the right way, its cap holds when the level rises, old artifacts still load and the
served answer shows the rule."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from latam_airlines.models.feed_tiers import TieredClassifier
from latam_airlines.models.metrics import best_f1_threshold
from latam_airlines.models.pipelines import make_pipeline
from latam_airlines.models.threshold_rules import describe_rule, fit_level_rule, rule_thresholds


def _scores(level: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Calibrated-looking probabilities that rise with the level (as the minimal tier's do:
    its recent-rate features), and outcomes drawn from them."""
    probability = np.clip(0.6 * level + rng.normal(0.05, 0.05, len(level)), 0.01, 0.99)
    return probability, (rng.random(len(level)) < probability).astype(int)


def test_the_rules_threshold_rises_with_the_level_and_its_cap_holds_when_the_level_rises() -> None:
    rng = np.random.default_rng(0)
    level = rng.uniform(0.10, 0.20, 40_000)  # the training months' levels
    probability, y = _scores(level, rng)
    rule = fit_level_rule(y, probability, level, max_flagged=0.5)
    assert rule["slope"] == pytest.approx(0.6, abs=0.05)  # as fast as the probabilities rise
    thresholds = rule_thresholds(rule, np.array([0.10, 0.20, 0.30, 0.40]))
    assert np.all(np.diff(thresholds) >= 0) and thresholds[-1] > thresholds[0]
    # The level rises beyond anything seen in training (as Nov-Dec after Jan-Oct): the rule
    # keeps flagging about half, a fixed threshold under the same cap flags nearly everything.
    high = np.full(20_000, 0.35)
    later, _ = _scores(high, rng)
    assert (later >= rule_thresholds(rule, high)).mean() <= 0.5 + 0.02
    fixed = best_f1_threshold(y, probability, 0.5)
    assert (later >= fixed).mean() > 0.8


def test_a_level_without_effect_gives_a_fixed_threshold_under_the_cap() -> None:
    rng = np.random.default_rng(1)
    level = rng.uniform(0.10, 0.20, 20_000)
    probability, y = _scores(np.full(len(level), 0.15), rng)  # probabilities ignore the level
    rule = fit_level_rule(y, probability, level, max_flagged=0.4)
    assert rule["slope"] == pytest.approx(0.0, abs=0.02)
    assert (probability >= rule_thresholds(rule, level)).mean() <= 0.4 + 1e-9
    with pytest.raises(ValueError, match="flagged share"):
        fit_level_rule(y, probability, level, max_flagged=0.0)


@pytest.fixture(scope="module")
def minimal_tiers() -> TieredClassifier:
    """A minimal tier trained on January (two airlines, four flights a day), with a rule."""
    days = np.repeat(np.arange(1.0, 32.0), 4)
    frame = pd.DataFrame(
        {"OPERA": np.tile(["A", "A", "B", "B"], 31), "TIPOVUELO": "N", "MES": 1.0, "DIA": days}
    )
    y = np.zeros(len(frame), dtype=int)
    y[::5] = 1
    fed = make_pipeline("logreg", y, "minimal", "weight", seed=0).fit(frame, y)
    rule = {"level": "SCL delay rate over the last 28 days", "days": 28, "floor": 0.2, "intercept": 0.0,
            "slope": 1.5, "max_flagged": 0.5}  # fmt: skip
    return TieredClassifier(minimal=fed, thresholds={"minimal": 0.3}, threshold_rules={"minimal": rule})


def test_decide_labels_each_row_at_the_threshold_of_the_level_it_reads(minimal_tiers) -> None:
    tiers = copy.deepcopy(minimal_tiers)
    records = pd.DataFrame({"OPERA": ["A", "B"], "TIPOVUELO": "N", "MES": 2.0, "DIA": [np.nan, np.nan]})
    _, before, _ = tiers.decide(records)
    level = tiers.history_step("minimal").scl_recent_rate(records)
    np.testing.assert_allclose(before, np.maximum(0.2, 1.5 * level))
    assert tiers.current_thresholds()["minimal"] == pytest.approx(before[0])
    # February fed, every flight late: the level, and with it the threshold, rises.
    february = pd.DataFrame(
        {"OPERA": "A", "TIPOVUELO": "N", "MES": 2.0, "DIA": np.repeat(np.arange(1.0, 29.0), 4)}
    )
    tiers.history_step("minimal").record_outcomes(february, np.ones(len(february)))
    _, after, _ = tiers.decide(records)
    assert np.all(after > before)
    assert tiers.current_thresholds()["minimal"] == pytest.approx(after[0])


def test_an_artifact_pickled_before_level_rules_loads_with_its_fixed_thresholds(minimal_tiers) -> None:
    old = copy.deepcopy(minimal_tiers)
    del old.threshold_rules  # as pickled by the code before this attribute existed
    loaded = pickle.loads(pickle.dumps(old))
    records = pd.DataFrame({"OPERA": ["A"], "TIPOVUELO": ["N"], "MES": [2.0]})
    assert loaded.threshold_rules is None
    assert loaded.decide(records)[1].tolist() == [0.3]
    assert loaded.current_thresholds() == {"minimal": 0.3}


def test_model_endpoint_and_predict_show_the_rule_and_the_threshold_of_each_row(api_model_path: Path) -> None:
    from latam_airlines.api import create_app
    from latam_airlines.models import load_model
    from latam_airlines.models.predict import predict_flights

    model = load_model(api_model_path)
    rules = model.pipeline.threshold_rules
    assert set(rules) == {"minimal", "minimal_stale"}
    info = TestClient(create_app(model, max_batch=10)).get("/model").json()
    shown = info["feed"]["threshold_rules"]
    assert shown["minimal"]["rule"] == describe_rule(rules["minimal"])
    assert shown["minimal"]["slope"] == pytest.approx(rules["minimal"]["slope"])
    assert info["feed"]["thresholds"]["minimal"] == pytest.approx(
        model.pipeline.current_thresholds()["minimal"]
    )
    records = pd.DataFrame({"OPERA": ["Grupo LATAM"] * 2, "TIPOVUELO": "N", "MES": [1, 6]})
    output = predict_flights(model, records)
    assert output["regime"].tolist() == ["minimal", "minimal_stale"]
    assert (output["delayed"] == (output["delay_probability"] >= output["threshold"]).astype(int)).all()
    np.testing.assert_allclose(
        output["threshold"], [model.thresholds["minimal"], model.thresholds["minimal_stale"]], atol=1e-6
    )
