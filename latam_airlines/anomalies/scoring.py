"""Anomaly scores of airport-days, what drove them, and the threshold that flags days.

Each airport gets its own forest over its own days, so "unusual" means unusual for that
airport. Methods:
- `krcf` (default): AWS's Random Cut Forest (Rust bindings of aws/random-cut-forest-by-aws,
  the algorithm of SageMaker's RCF), in batch: every day in, every day scored, attribution
  per feature for the highest-scoring days. Why it is the default: reports/anomalies_scale.md.
- `rrcf`: the pure-Python Random Cut Forest, built in batch: every round shuffles the
  airport's days and splits them into trees of about `tree_size` days; each day's score is its
  collusive displacement (CoDisp) averaged over the `trees_per_day` trees that hold it.
- `isolation-forest`: scikit-learn's, for comparison.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from latam_airlines.anomalies.daily import FEATURES, feature_matrix
from latam_airlines.errors import InputError
from latam_airlines.settings import setting

METHODS = ("krcf", "rrcf", "isolation-forest")


@dataclass(frozen=True)
class ScoringSettings:
    """How airport-days are scored; a field not given is the settings' `anomalies:` entry of
    the same name (latam_airlines/settings.py documents each), the seed the top-level seed."""

    method: str = setting("anomalies", "method")
    num_trees: int = setting("anomalies", "num_trees")
    sample_size: int = setting("anomalies", "sample_size")
    trees_per_day: int = setting("anomalies", "trees_per_day")
    tree_size: int = setting("anomalies", "tree_size")
    n_estimators: int = setting("anomalies", "n_estimators")
    min_days: int = setting("anomalies", "min_days")
    min_flights_per_day: int = setting("anomalies", "min_flights_per_day")
    min_airport_flights: int = setting("anomalies", "min_airport_flights")
    explain_share: float = setting("anomalies", "explain_share")
    seed: int = setting("seed")

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InputError(f"expected one of {', '.join(METHODS)}", column="--method", value=self.method)
        if not 0 < float(self.explain_share) <= 1:
            raise InputError("must be in (0, 1]", column="anomalies.explain_share", value=self.explain_share)
        for name in (
            "num_trees", "sample_size", "trees_per_day", "tree_size", "n_estimators", "min_days",
            "min_flights_per_day", "min_airport_flights",
        ):  # fmt: skip
            if int(getattr(self, name)) < 1 or (
                name in ("tree_size", "sample_size") and getattr(self, name) < 2
            ):
                raise InputError(
                    "must be a positive whole number", column=f"anomalies.{name}", value=getattr(self, name)
                )


def airport_seed(seed: int, airport: str) -> int:
    """A seed per airport from the global seed: same input -> same scores, whatever the order
    or the number of worker processes."""
    return int(np.random.SeedSequence([seed, zlib.crc32(airport.encode())]).generate_state(1)[0])


def _krcf_forest(features: np.ndarray, num_trees: int, sample_size: int, random_state: int):
    """One airport's forest, every day in it (in date order), and the days as the forest saw
    them; None when there is nothing to isolate. The same features and seed give the same
    forest (`attribute_flagged` rebuilds one)."""
    import krcf

    count, dimensions = features.shape
    if count < 2 or len(np.unique(np.round(features, 9), axis=0)) < 2:
        return None
    # Each feature on a unit range: RCF draws the cut dimension in proportion to its range, so
    # heavy-tailed delays would take most cuts and a day extreme only in its share of delayed
    # flights would rarely be isolated. Measured on the injected-anomaly test (seeds 7-9):
    # recall 0.88-0.90 -> 0.92-1.0, precision 0.47-0.50 -> 0.51-0.53 (reports/anomalies_scale.md).
    low, span = features.min(axis=0), np.ptp(features, axis=0)
    features = (features - low) / np.where(span > 0, span, 1.0)
    forest = krcf.RandomCutForest(
        {
            "dimensions": dimensions,
            "shingle_size": 1,
            "num_trees": num_trees,
            "sample_size": sample_size,
            "output_after": 1,
            "random_seed": random_state % (2**63),
            "initial_accept_fraction": 1.0,
            "lambda": 0.0,  # no time decay: a batch of days, not a stream
        }
    )
    rows = features.tolist()
    for row in rows:
        forest.update(row)
    return forest, rows


def _attribution(forest, row: list[float]) -> np.ndarray:
    vector = forest.attribution(row)
    return np.add(vector["high"], vector["low"])


def krcf_scores(
    features: np.ndarray, num_trees: int, sample_size: int, random_state: int, explain_share: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """AWS's Random Cut Forest (krcf, Rust bindings of aws/random-cut-forest-by-aws) over one
    airport's days, in batch: every day goes into the forest (in date order), then every day is
    scored against it, as SageMaker's RCF scores the data it was trained on.

    Returns the scores and their attribution, one column per feature: how much of each day's
    score comes from that feature's cuts (the columns add up to the score). Only the
    `explain_share` highest-scoring days get it while the forest is at hand (the rest keep
    NaN): the days that can be flagged are among an airport's highest, and the threshold is
    only known once every airport is scored (`attribute_flagged` covers any flagged day left).
    """
    count, dimensions = features.shape
    built = _krcf_forest(features, num_trees, sample_size, random_state)
    if built is None:
        return np.zeros(count), np.zeros((count, dimensions))  # nothing to isolate
    forest, rows = built
    scores = np.fromiter((forest.score(row) for row in rows), dtype=float, count=count)
    attribution = np.full((count, dimensions), np.nan)
    explained = max(1, int(np.ceil(explain_share * count)))
    for index in np.argsort(-scores, kind="stable")[:explained]:
        attribution[index] = _attribution(forest, rows[index])
    return scores, attribution


def isolation_forest_scores(features: np.ndarray, n_estimators: int, random_state: int) -> np.ndarray:
    """Isolation-forest anomaly scores (higher = more anomalous, about 0.3..0.8); each tree
    sees at most 256 days, scikit-learn's default."""
    from sklearn.ensemble import IsolationForest

    forest = IsolationForest(
        n_estimators=n_estimators,
        max_samples=min(256, len(features)),
        random_state=random_state % (2**32),
        n_jobs=1,
    )
    return -forest.fit(features).score_samples(features)


def deviation_contributions(features: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """The explanation of methods without attribution (rrcf, isolation forest): each day's
    score shared among the features in proportion to their standardised deviation |z|."""
    deviation = np.abs(features)
    total = deviation.sum(axis=1, keepdims=True)
    return np.divide(deviation, total, out=np.zeros_like(deviation), where=total > 0) * scores[:, None]


def score_features(features: np.ndarray, airport: str, settings: ScoringSettings) -> np.ndarray:
    """Scores of one airport's standardised day features with the chosen method, what each
    feature contributed, and whether that is the method's own attribution (1) or a share by
    deviation (0): an (n, 2 + features) array, the score first.

    krcf gives its own attribution for the airport's `explain_share` highest-scoring days (it
    costs about what building the forest does); its other days, and every day of rrcf and the
    isolation forest, share the score by standardised deviation (`deviation_contributions`).
    """
    random_state = airport_seed(settings.seed, airport)
    if settings.method == "krcf":
        scores, contributions = krcf_scores(
            features, settings.num_trees, settings.sample_size, random_state, settings.explain_share
        )
        unexplained = np.isnan(contributions[:, 0])
        contributions[unexplained] = deviation_contributions(features[unexplained], scores[unexplained])
    else:
        if settings.method == "rrcf":
            from latam_airlines.anomalies.rrcf_batch import rrcf_scores  # rrcf imports pkg_resources: slow

            scores = rrcf_scores(features, settings.trees_per_day, settings.tree_size, random_state)
        else:
            scores = isolation_forest_scores(features, settings.n_estimators, random_state)
        contributions = deviation_contributions(features, scores)
        unexplained = np.ones(len(scores), dtype=bool)
    return np.column_stack([scores, contributions, ~unexplained])


def _score_batch(batch: list[tuple[str, np.ndarray]], settings: ScoringSettings) -> list[np.ndarray]:
    return [score_features(features, airport, settings) for airport, features in batch]


# Fewer scorable days than this are scored in this process: starting worker processes costs more.
PARALLEL_MIN_DAYS = 5000
# `attributed`: 1 where the contributions are the forest's own attribution (krcf), 0 where
# they share the score by deviation; not in the report's CSV.
SCORE_COLUMNS = ["score"] + [f"contribution_{name}" for name in FEATURES] + ["attributed"]
# Why a listed day has no score (empty: scored).
STATUS_SMALL_DAY = "few flights"
STATUS_SMALL_AIRPORT = "small airport"


def scoring_status(daily: pd.DataFrame, settings: ScoringSettings) -> np.ndarray:
    """Per airport-day: "" (scored), "few flights" (a day under `min_flights_per_day`) or
    "small airport" (under `min_airport_flights` flights in the year, or under `min_days`
    days with enough flights). Unscored days stay in the report, without a score."""
    enough = daily["flights"].to_numpy() >= settings.min_flights_per_day
    status = np.where(enough, "", STATUS_SMALL_DAY).astype(object)
    airports = daily["airport"].to_numpy()
    frame = pd.DataFrame({"airport": airports, "flights": daily["flights"].to_numpy(), "enough": enough})
    per_airport = frame.groupby("airport", sort=False).agg(flights=("flights", "sum"), days=("enough", "sum"))
    small = per_airport.index[
        (per_airport["flights"] < settings.min_airport_flights) | (per_airport["days"] < settings.min_days)
    ]
    status[np.isin(airports, small.to_numpy())] = STATUS_SMALL_AIRPORT
    return status


def score_and_explain(
    daily: pd.DataFrame,
    settings: ScoringSettings,
    n_jobs: int = 1,
    on_airport: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Per row of `daily`: `score`, the `contribution_<feature>` of each feature (NaN where not
    scored or not explained) and `status` (see `scoring_status`).

    Only an airport's scorable days make its forest. Airports are scored in `n_jobs` processes
    (joblib), in balanced batches of work; the result does not depend on `n_jobs`, nor on which
    other airports are in `daily` (the Dask engine scores each partition of airports with it).
    `on_airport(count)` reports progress.
    """
    status = scoring_status(daily, settings)
    result = np.full((len(daily), len(SCORE_COLUMNS)), np.nan)
    work = _scored_rows(daily, status)
    jobs = [(airport, feature_matrix(daily.iloc[rows])) for airport, rows in work]
    if n_jobs == 1 or len(jobs) < 4 or sum(len(rows) for _, rows in work) < PARALLEL_MIN_DAYS:
        results = []
        for airport, features in jobs:
            results.append(score_features(features, airport, settings))
            if on_airport:
                on_airport(1)
    else:
        from latam_airlines.parallel import cores, run_batches

        workers = cores(n_jobs)
        # Longest first, dealt round-robin: batches of about equal work, few trips to the workers.
        order = sorted(range(len(jobs)), key=lambda k: -len(jobs[k][1]))
        batches = [order[start :: workers * 4] for start in range(workers * 4)]
        batches = [batch for batch in batches if batch]
        score = functools.partial(_score_batch, settings=settings)
        results = [None] * len(jobs)
        for number, batch_scores in run_batches(
            score, [[jobs[k] for k in batch] for batch in batches], workers
        ):
            for k, value in zip(batches[number], batch_scores):
                results[k] = value
            if on_airport:
                on_airport(len(batches[number]))
    for (_, rows), airport_result in zip(work, results):
        result[rows] = airport_result
    frame = pd.DataFrame(result, columns=SCORE_COLUMNS, index=daily.index)
    frame["status"] = status
    return frame


def _scored_rows(daily: pd.DataFrame, status: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(airport, positions of its scorable days in `daily`) per airport, by airport name: the
    days that make each airport's forest."""
    groups = pd.Series(np.arange(len(daily)))[status == ""].groupby(daily["airport"].to_numpy()[status == ""])
    work = [(str(airport), rows.to_numpy()) for airport, rows in groups]
    work.sort(key=lambda item: item[0])
    return work


def attribute_flagged(
    daily: pd.DataFrame, scored: pd.DataFrame, threshold: float, settings: ScoringSettings
) -> pd.DataFrame:
    """`scored` (of `score_and_explain`) with krcf's own attribution for every day above
    `threshold`: a flagged day that was not among its airport's `explain_share` highest gets
    it from its airport's forest, rebuilt (same days, same seed: the same forest). Other
    methods, and days already attributed, are returned as they are."""
    flagged = np.nan_to_num(scored["score"].to_numpy(dtype=float), nan=-np.inf) > threshold
    missing = flagged & (scored["attributed"].to_numpy() != 1)
    if settings.method != "krcf" or not missing.any():
        return scored
    scored = scored.copy()
    columns = [scored.columns.get_loc(f"contribution_{name}") for name in FEATURES]
    attributed = scored.columns.get_loc("attributed")
    wanted = set(daily["airport"].to_numpy()[missing])
    for airport, rows in _scored_rows(daily, scored["status"].to_numpy()):
        if airport not in wanted:
            continue
        features = feature_matrix(daily.iloc[rows])
        built = _krcf_forest(
            features, settings.num_trees, settings.sample_size, airport_seed(settings.seed, airport)
        )
        if built is None:
            continue
        forest, points = built
        for position in np.flatnonzero(missing[rows]):
            scored.iloc[rows[position], columns] = _attribution(forest, points[position])
            scored.iloc[rows[position], attributed] = 1.0
    return scored


def score_airport_days(
    daily: pd.DataFrame,
    settings: ScoringSettings,
    n_jobs: int = 1,
    on_airport: Callable[[int], None] | None = None,
) -> np.ndarray:
    """One score per row of `daily` (NaN for the days and airports too small to score)."""
    return score_and_explain(daily, settings, n_jobs, on_airport)["score"].to_numpy()


def anomaly_threshold(scores: np.ndarray, sigmas: float = 3.0) -> float:
    """Mean + `sigmas` standard deviations of all (scored) airport-day scores."""
    scored = scores[~np.isnan(scores)]
    if scored.size == 0:
        raise InputError("no airport has enough days to score (see anomalies.min_days)")
    return float(scored.mean() + sigmas * scored.std())
