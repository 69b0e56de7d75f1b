"""The minimal tiers' steady cut-off (models/metrics.py `steady_f1_cutoff`): the highest cut-off
whose F1 is within one standard error of the best. It does not wander along a flat F1 curve
when the probabilities barely move (the argmax does), its standard error is the F1's sampling
noise, and it honours the cap on the share flagged; the full tiers keep the argmax."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import precision_recall_curve

from latam_airlines.models.metrics import best_f1_threshold, f1_of_cutoffs, ranked_cutoffs
from latam_airlines.models.threshold_rules import fit_level_rule


def _weak_ranking(seed: int, rows: int = 40_000) -> tuple[np.ndarray, np.ndarray]:
    """(outcomes, probabilities) of a ranking as weak as the minimal tier's (ROC-AUC ~0.62,
    ~20 % delayed): its F1 curve is flat near the top."""
    rng = np.random.default_rng(seed)
    probability = 1 / (1 + np.exp(1.4 - 0.45 * rng.normal(size=rows)))
    return (rng.random(rows) < probability).astype(int), probability


def _spread_when_nudged(y: np.ndarray, probability: np.ndarray, steady: bool) -> tuple[float, float]:
    """How far the cut-off and the share it flags move when every probability moves by 0.1 %
    (as refits with another BLAS thread count move them): largest minus smallest of 10."""
    cutoffs, shares = [], []
    for draw in range(10):
        nudged = probability * (1 + np.random.default_rng(100 + draw).normal(0, 1e-3, len(probability)))
        cutoff = best_f1_threshold(y, nudged, steady=steady)
        cutoffs.append(cutoff)
        shares.append(float((nudged >= cutoff).mean()))
    return float(np.ptp(cutoffs)), float(np.ptp(shares))


def test_the_steady_cutoff_does_not_wander_along_a_flat_f1_curve() -> None:
    steady = [_spread_when_nudged(*_weak_ranking(seed), steady=True) for seed in range(6)]
    argmax = [_spread_when_nudged(*_weak_ranking(seed), steady=False) for seed in range(6)]
    # The argmax jumps along the plateau (here by 0.02, 13 % of the rows flagged or not) ...
    assert max(cutoff for cutoff, _ in argmax) > 0.01 and max(share for _, share in argmax) > 0.1
    # ... the steady cut-off moves only as far as the rows near it move.
    assert max(cutoff for cutoff, _ in steady) < 0.005 and max(share for _, share in steady) < 0.025


def test_the_steady_cutoff_is_the_highest_within_one_bootstrap_standard_error_of_the_best() -> None:
    y, probability = _weak_ranking(7, rows=20_000)
    cutoffs, true_positives, flagged = ranked_cutoffs(y.astype(float), probability)
    f1 = f1_of_cutoffs(true_positives, flagged, y.sum())
    best = cutoffs[int(np.argmax(f1))]
    rng = np.random.default_rng(0)
    resampled = rng.integers(0, len(y), (300, len(y)))
    delayed, labelled = y[resampled], probability[resampled] >= best
    standard_error = np.std(2 * (delayed & labelled).sum(1) / (delayed.sum(1) + labelled.sum(1)))
    chosen = best_f1_threshold(y, probability, steady=True)
    assert chosen > best  # fewer flagged than at the best F1
    assert f1[cutoffs == chosen][0] >= f1.max() - 1.2 * standard_error
    assert (f1[cutoffs > chosen] < f1.max() - 0.8 * standard_error).all()


def test_the_steady_cutoff_honours_the_cap_and_the_full_tiers_keep_the_argmax() -> None:
    y, probability = _weak_ranking(3)
    for cap in (0.2, 0.4):
        assert (probability >= best_f1_threshold(y, probability, cap, steady=True)).mean() <= cap
    # Without `steady`: the F1-optimal cut-off, as sklearn's precision-recall curve gives it.
    precision, recall, thresholds = precision_recall_curve(y, probability)
    f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
    assert best_f1_threshold(y, probability) == thresholds[int(np.argmax(f1))]
    assert best_f1_threshold(y[:0], probability[:0]) == 0.5


def test_the_level_rules_floor_is_the_steady_cutoff_under_its_cap() -> None:
    y, probability = _weak_ranking(5)
    level = np.full(len(y), 0.2)  # one level: the rule is a fixed threshold
    rule = fit_level_rule(y, probability, level, max_flagged=0.6)
    assert rule["slope"] == 0.0
    assert rule["floor"] == pytest.approx(best_f1_threshold(y, probability, 0.6, steady=True))
    assert rule["floor"] > best_f1_threshold(y, probability, 0.6)  # fewer flagged than the argmax
    nudged = probability * (1 + np.random.default_rng(1).normal(0, 1e-3, len(y)))
    assert fit_level_rule(y, nudged, level, max_flagged=0.6)["floor"] == pytest.approx(
        rule["floor"], abs=0.005
    )
