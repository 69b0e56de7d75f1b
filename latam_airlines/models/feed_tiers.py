"""Feed tiers: one classifier routing each flight to one of up to five fitted pipelines
("tiers") by what its record carries and how fresh the outcome feed is, each tier with its
own calibration map (models/calibration.py) and decision threshold:

- `full`: rich records (every field the full feature set reads), recent delay rates fed;
- `stale`: the same records when the model's outcome history is more than `stale_after_days`
  days older than the flight (the feed stopped): a feature set without recent rates, whose
  threshold was chosen for it. Stale recent rates slide back to the last recorded days and
  the fed threshold no longer fits them (Nov-Dec frozen F1 0.41 against 0.43-0.44 without
  recent rates). Its calibration map and threshold aim at the delay rate of the training
  data's last 28 days, not its average, and are fitted on rows scored with their month held out
  (models/training.py, `aim_at_level`);
- `stale_schedule` (with `train.stale_schedule`): the stale tier plus the planned-schedule
  counts (how busy the flight's day, hour and +-60 min are), answering the stale flights whose
  day is in its schedule book (fed by `DelayModel.record_schedule`, `latam schedule`, POST
  /schedule); a stale flight of an unbooked day gets the plain `stale` tier, so a deployment
  that publishes no schedule is answered as without the option. It ranks better on the
  backtests' stale days (+0.001 / +0.010 ROC-AUC: reports/model_selection.md, ninth pass);
  unfed, its counts would read "a typical day", which is not what it was measured on;
- `minimal`: records with only OPERA, TIPOVUELO, MES: a model trained on exactly those
  fields (a model trained on complete rows, fed a default hour and destination, answers for
  that default flight, not for "any flight of this airline this month"), with 7- and 28-day
  recent rates of SCL, the airline and airline x type;
- `minimal_stale`: the same records when the minimal tier's history is more than
  `stale_after_days` days older than the flight: 28-day windows only, its own threshold (the
  7-day windows, slid back to the history's last week, mislead: Jul-Aug frozen F1 0.26).
  A record without a day is dated at the earliest day its month can be after the history's
  last day (the month's next occurrence): stale when even that day is beyond the switch.

Probabilities are calibrated per tier: the map sends each raw score to the delay rate observed
for such scores (class weights inflate raw scores: mean 0.46 against an observed 0.23). Each
tier's F1-optimal threshold is chosen on the same
calibrated out-of-fold probabilities, so a label is `probability >= threshold of its tier`
(`decide`): thresholds differ between tiers, the probabilities mean the same thing. A tier with a
rule in `threshold_rules` (the minimal tiers) computes its threshold per row from the level the
row reads (SCL's recent delay rate: models/threshold_rules.py); `thresholds` then holds the
threshold at the level of the history's end as fitted, `current_thresholds` the one now.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from latam_airlines.models.calibration import calibrate
from latam_airlines.models.threshold_rules import rule_thresholds

TIERS: tuple[str, ...] = ("full", "stale", "stale_schedule", "minimal", "minimal_stale")


class TieredClassifier(BaseEstimator, ClassifierMixin):
    """Routes each row to a tier (see the module docstring); `predict_proba` is calibrated.

    The training protocol (models/training.py) fits each tier on its own and assembles them
    with their thresholds and calibration maps; `fit` fits every given tier on the same rows
    (in place, as scikit-learn's Pipeline fits its steps). Like Pipeline, `classes_` comes
    from the fitted tiers, never from `__init__`.
    """

    def __init__(
        self,
        full: Any = None,
        minimal: Any = None,
        stale: Any = None,
        minimal_stale: Any = None,
        stale_schedule: Any = None,
        full_fields: Sequence[str] = (),
        thresholds: Mapping[str, float] | None = None,
        calibration: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
        stale_after_days: int | None = None,
        threshold_rules: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.full = full
        self.minimal = minimal
        self.stale = stale
        self.minimal_stale = minimal_stale
        self.stale_schedule = stale_schedule
        self.full_fields = full_fields
        self.thresholds = thresholds
        self.calibration = calibration
        self.stale_after_days = stale_after_days
        self.threshold_rules = threshold_rules

    def __setstate__(self, state: dict[str, Any]) -> None:
        state.setdefault("minimal_stale", None)  # artifacts pickled before that tier existed
        state.setdefault("threshold_rules", None)  # ... before level rules: fixed thresholds
        state.setdefault("stale_schedule", None)  # ... before the booked-days stale tier
        super().__setstate__(state)

    def _tiers(self) -> list[Any]:
        tiers = (self.full, self.stale, self.stale_schedule, self.minimal, self.minimal_stale)
        return [tier for tier in tiers if tier is not None]

    def fit(self, X: pd.DataFrame, y: Any) -> TieredClassifier:
        """Fit every given tier on (X, y); thresholds and calibration maps stay as given."""
        for tier in self._tiers():
            tier.fit(X, y)
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return bool(self._tiers()) and all(hasattr(tier, "classes_") for tier in self._tiers())

    @property
    def classes_(self) -> np.ndarray:
        """The fitted tiers' classes (0 on time, 1 delayed), as scikit-learn's Pipeline does."""
        from sklearn.exceptions import NotFittedError

        if not self.__sklearn_is_fitted__():
            raise NotFittedError("TieredClassifier has no fitted tier")
        return self._tiers()[0].classes_

    # ------------------------------------------------------------------ routing
    def full_rows(self, X: pd.DataFrame) -> np.ndarray:
        """True where the row carries every field the full model reads."""
        if self.full is None:
            return np.zeros(len(X), dtype=bool)
        if self.minimal is None:
            return np.ones(len(X), dtype=bool)
        present = np.ones(len(X), dtype=bool)
        for field in self.full_fields:
            present &= ~pd.isna(X[field].to_numpy())
        return present

    def history_step(self, tier: str = "full") -> Any:
        """`tier`'s feature step when it keeps a recent-delay history, else None."""
        step = getattr(getattr(self, tier, None), "named_steps", {}).get("features")
        return step if getattr(step, "outcomes_", None) else None

    def stale_rows(self, X: pd.DataFrame, tier: str = "full") -> np.ndarray:
        """True where the flight's day is more than `stale_after_days` after the end of `tier`'s
        history (full: the switch to `stale`; minimal: to `minimal_stale`)."""
        switch = getattr(self, {"full": "stale", "minimal": "minimal_stale"}[tier], None)
        step = self.history_step(tier)
        if switch is None or self.stale_after_days is None or step is None:
            return np.zeros(len(X), dtype=bool)
        if np.isnan(step.outcomes_until_):
            return np.ones(len(X), dtype=bool)
        return np.nan_to_num(history_gap_days(step, X), nan=0.0) > self.stale_after_days

    def route(self, X: pd.DataFrame, minimal_only: bool = False) -> np.ndarray:
        """Tier name of each row; `minimal_only`: every row as a minimal record would go (the
        holdout's minimal-tier figures)."""
        tier = np.full(len(X), "minimal", dtype=object)
        rich = np.zeros(len(X), dtype=bool) if minimal_only else self.full_rows(X)
        tier[rich] = "full"
        for name, switch, rows in (("full", "stale", rich), ("minimal", "minimal_stale", ~rich)):
            if rows.any() and getattr(self, switch, None) is not None:
                positions = np.flatnonzero(rows)
                stale = self.stale_rows(X if rows.all() else X.iloc[positions], name)
                tier[positions[stale]] = switch
        if self.stale_schedule is not None and (tier == "stale").any():
            positions = np.flatnonzero(tier == "stale")
            tier[positions] = self.stale_tiers(X.iloc[positions])
        return tier

    def stale_tiers(self, X: pd.DataFrame) -> np.ndarray:
        """Which stale tier answers each row once the feed stopped: `stale_schedule` where its
        schedule book holds the flight's day, else `stale`."""
        tier = np.full(len(X), "stale", dtype=object)
        step = getattr(self.stale_schedule, "named_steps", {}).get("features")
        if step is not None:
            tier[step.booked(X)] = "stale_schedule"
        return tier

    # ------------------------------------------------------------------ scoring
    def tier_probability(self, tier: str, X: pd.DataFrame, calibrated: bool = True) -> np.ndarray:
        """Probabilities of `tier` for every row of X (whatever its route)."""
        raw = getattr(self, tier).predict_proba(X)[:, 1]
        return calibrate(raw, (self.calibration or {}).get(tier)) if calibrated else raw

    def decide(
        self, X: pd.DataFrame, minimal_only: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(calibrated probability, threshold, tier) per row (`minimal_only`: see `route`)."""
        tier = self.route(X, minimal_only)
        probability = np.empty(len(X), dtype=float)
        threshold = np.empty(len(X), dtype=float)
        for name in TIERS:
            rows = tier == name
            if not rows.any():
                continue
            part = X if rows.all() else X.iloc[np.flatnonzero(rows)]
            probability[rows] = self.tier_probability(name, part)
            threshold[rows] = self.tier_thresholds(name, part)
        return probability, threshold, tier

    def tier_thresholds(self, tier: str, X: pd.DataFrame) -> np.ndarray:
        """`tier`'s threshold for every row of X: its rule at the level each row reads, else
        its fixed threshold."""
        rule = (self.threshold_rules or {}).get(tier)
        step = self.history_step(tier)
        if rule is None or step is None:
            return np.full(len(X), (self.thresholds or {}).get(tier, 0.5), dtype=float)
        return rule_thresholds(rule, step.scl_recent_rate(X, rule["days"]))

    def current_thresholds(self) -> dict[str, float]:
        """Each tier's threshold for a record without a day (it reads the history's last days)."""
        undated = pd.DataFrame(index=[0])
        return {
            tier: float(self.tier_thresholds(tier, undated)[0])
            if tier in (self.threshold_rules or {})
            else value
            for tier, value in (self.thresholds or {}).items()
        }

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        probability = self.decide(X)[0]
        return np.column_stack([1 - probability, probability])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        probability, threshold, _ = self.decide(X)
        return (probability >= threshold).astype(int)


def history_gap_days(step: Any, X: pd.DataFrame) -> np.ndarray:
    """Days from the last day of `step`'s outcome history to each flight's day. A record
    without a day but with a month (the minimal record) is dated at the earliest day that month
    can be after the history's end: the month's next occurrence (the history's own month: the
    day after it). NaN when neither is known."""
    from latam_airlines.data.calendar import day_numbers
    from latam_airlines.features.canonical import as_numbers

    until = step.outcomes_until_
    days = step.flight_days(X)
    dateless = np.isnan(days)
    if dateless.any() and "MES" in X.columns:
        month = as_numbers(X["MES"].to_numpy()[dateless])
        last = np.datetime64(int(until), "D").astype(object)
        year = last.year + (month < last.month)
        first = day_numbers(year.astype(float), month, np.ones(len(month)))
        days[dateless] = np.maximum(first, until + 1)  # NaN month stays NaN
    return days - until
