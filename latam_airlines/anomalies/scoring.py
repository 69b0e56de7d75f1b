"""Anomaly scores of airport-days: a Random Cut Forest per airport (the `rrcf` package), or an
isolation forest for comparison, and the threshold that turns scores into anomalous days.

Each airport gets its own forest over its own days, so "unusual" means unusual for that
airport. rrcf is pure Python, so the forest is built in batch mode: every round shuffles the
airport's days and splits them into trees of about `tree_size` days; each day's score is its
collusive displacement (CoDisp) averaged over the `trees_per_day` trees that hold it.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import rrcf
from rrcf.rrcf import Branch, Leaf

from latam_airlines.anomalies.daily import feature_matrix
from latam_airlines.errors import InputError

METHODS = ("rrcf", "isolation-forest")


@dataclass(frozen=True)
class ScoringSettings:
    """How airport-days are scored; every field has a params.yaml `anomalies:` entry."""

    method: str = "rrcf"
    trees_per_day: int = 16  # rrcf: trees each day is scored in (score noise falls with more)
    tree_size: int = 64  # rrcf: days per tree
    n_estimators: int = 100  # isolation forest: trees per airport
    min_days: int = 30  # airports flying on fewer days are not scored (too little to know "normal")
    seed: int = 42

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InputError(f"expected one of {', '.join(METHODS)}", column="--method", value=self.method)
        for name in ("trees_per_day", "tree_size", "n_estimators", "min_days"):
            if int(getattr(self, name)) < 1 or (name == "tree_size" and self.tree_size < 2):
                raise InputError(
                    "must be a positive whole number", column=f"anomalies.{name}", value=getattr(self, name)
                )


def airport_seed(seed: int, airport: str) -> int:
    """A seed per airport from the global seed: same input -> same scores, whatever the order
    or the number of worker processes."""
    return int(np.random.SeedSequence([seed, zlib.crc32(airport.encode())]).generate_state(1)[0])


class _BatchTree(rrcf.RCTree):
    """An rrcf RCTree (rrcf's Branch/Leaf nodes, its `codisp`) built once from a batch, about
    three times as fast as rrcf's own constructor:

    - no bounding boxes: only streaming insert/forget use them;
    - each node splits an array of row numbers instead of masking every row of the batch, in
      a loop instead of recursion;
    - the cut is rrcf's: a dimension drawn with probability proportional to its span (by a
      running sum instead of `RandomState.choice(p=...)`, whose checks cost more than the
      draw), then a value uniform over that span.
    """

    def _get_bbox_top_down(self, node) -> None:
        return None

    def _mktree(self, X, S, N, inverse, parent=None, side="root", depth=0):  # rrcf calls it positionally
        labels = self.index_labels
        rows = np.flatnonzero(S)
        # Two uniform draws per branch (dimension, value), drawn at once: a tree of n points
        # has n - 1 branches, and one call to the generator costs more than the arithmetic.
        draws = iter(self.rng.random_sample(2 * len(rows)).tolist())
        pending = [(rows, parent, side, depth + 1)]
        while pending:
            rows, above, branch_side, level = pending.pop()
            points = X[rows]
            lower = points.min(axis=0).tolist()
            spans = [high - low for high, low in zip(points.max(axis=0).tolist(), lower)]
            target = next(draws) * sum(spans)
            dimension, covered = 0, spans[0]
            while covered <= target and dimension < len(spans) - 1:
                dimension += 1
                covered += spans[dimension]
            value = lower[dimension] + next(draws) * spans[dimension]
            branch = Branch(q=dimension, p=value, u=above)
            setattr(above, branch_side, branch)  # `above` is the tree itself for the root
            goes_left = points[:, dimension] <= value
            for child_rows, child_side in ((rows[goes_left], "l"), (rows[~goes_left], "r")):
                if len(child_rows) > 1:
                    pending.append((child_rows, branch, child_side, level + 1))
                    continue
                row = int(child_rows[0])
                leaf = Leaf(i=row, d=level, u=branch, x=X[row, :], n=N[row])
                setattr(branch, child_side, leaf)
                # With duplicates X holds unique rows and `inverse` maps each input row onto one.
                duplicates = labels[np.flatnonzero(inverse == row)] if inverse is not None else (labels[row],)
                for label in duplicates:
                    self.leaves[label] = leaf


def _tree_codisp(tree: rrcf.RCTree, labels: np.ndarray) -> np.ndarray:
    """CoDisp of every point of `tree` in one top-down pass (rrcf's `codisp` walks up from each
    leaf: the same maximum of sibling size / subtree size over the leaf's ancestors)."""
    by_leaf: dict[int, float] = {}
    stack = [(tree.root, 0.0)]
    while stack:
        node, best = stack.pop()
        if isinstance(node, rrcf.Leaf):
            by_leaf[id(node)] = best
            continue
        left, right = node.l, node.r
        stack.append((left, max(best, right.n / left.n)))
        stack.append((right, max(best, left.n / right.n)))
    return np.fromiter((by_leaf[id(tree.leaves[label])] for label in labels), dtype=float, count=len(labels))


def rrcf_scores(features: np.ndarray, trees_per_day: int, tree_size: int, random_state: int) -> np.ndarray:
    """Mean CoDisp of each row over `trees_per_day` random cut trees of about `tree_size` rows."""
    count = len(features)
    features = np.round(features, 9)  # rrcf rounds too; identical rows then share a leaf
    if count < 2 or len(np.unique(features, axis=0)) < 2:
        return np.zeros(count)
    rng = np.random.RandomState(random_state)
    trees_per_round = max(1, round(count / tree_size))
    total = np.zeros(count)
    held = np.zeros(count)
    for _ in range(trees_per_day):
        for labels in np.array_split(rng.permutation(count), trees_per_round):
            if len(np.unique(features[labels], axis=0)) < 2:
                continue  # a tree of identical days isolates nothing
            tree = _BatchTree(features[labels], index_labels=labels, random_state=rng)
            total[labels] += _tree_codisp(tree, labels)
            held[labels] += 1
    return np.divide(total, held, out=np.zeros(count), where=held > 0)


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


def score_features(features: np.ndarray, airport: str, settings: ScoringSettings) -> np.ndarray:
    """Scores of one airport's standardised day features with the chosen method."""
    random_state = airport_seed(settings.seed, airport)
    if settings.method == "rrcf":
        return rrcf_scores(features, settings.trees_per_day, settings.tree_size, random_state)
    return isolation_forest_scores(features, settings.n_estimators, random_state)


def _score_batch(batch: list[tuple[str, np.ndarray]], settings: ScoringSettings) -> list[np.ndarray]:
    return [score_features(features, airport, settings) for airport, features in batch]


def score_airport_days(
    daily: pd.DataFrame,
    settings: ScoringSettings,
    n_jobs: int = 1,
    on_airport: Callable[[int], None] | None = None,
) -> np.ndarray:
    """One score per row of `daily` (NaN for airports with fewer than `min_days` days).

    Airports are scored in `n_jobs` processes (joblib), in balanced batches of work; the
    result does not depend on `n_jobs`. `on_airport(count)` reports progress.
    """
    scores = np.full(len(daily), np.nan)
    groups = daily.groupby("airport", sort=True).indices
    work = [(airport, rows) for airport, rows in groups.items() if len(rows) >= settings.min_days]
    jobs = [(airport, feature_matrix(daily.iloc[rows])) for airport, rows in work]
    if n_jobs == 1 or len(jobs) < 4:
        results = []
        for airport, features in jobs:
            results.append(score_features(features, airport, settings))
            if on_airport:
                on_airport(1)
    else:
        from joblib import Parallel, cpu_count, delayed

        workers = cpu_count() if n_jobs < 0 else n_jobs
        # Longest first, dealt round-robin: batches of about equal work, few trips to the workers.
        order = sorted(range(len(jobs)), key=lambda k: -len(jobs[k][1]))
        batches = [order[start :: workers * 4] for start in range(workers * 4)]
        batches = [batch for batch in batches if batch]
        outputs = Parallel(n_jobs=workers, return_as="generator")(
            delayed(_score_batch)([jobs[k] for k in batch], settings) for batch in batches
        )
        results = [None] * len(jobs)
        for batch, batch_scores in zip(batches, outputs):
            for k, value in zip(batch, batch_scores):
                results[k] = value
            if on_airport:
                on_airport(len(batch))
    for (_, rows), airport_scores in zip(work, results):
        scores[rows] = airport_scores
    return scores


def anomaly_threshold(scores: np.ndarray, sigmas: float = 3.0) -> float:
    """Mean + `sigmas` standard deviations of all (scored) airport-day scores."""
    scored = scores[~np.isnan(scores)]
    if scored.size == 0:
        raise InputError("no airport has enough days to score (see anomalies.min_days)")
    return float(scored.mean() + sigmas * scored.std())
