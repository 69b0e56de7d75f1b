"""Predictions for validated flight records, with a cache keyed by the record's fields.

The model is a pure function of a record, and the minimal record (OPERA, TIPOVUELO, MES) has a
few hundred combinations, so nearly every request is a dictionary lookup. Records the cache
has not seen are predicted together in one vectorised call to the model.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from latam_airlines.models import REQUIRED_FIELDS, DelayModel

RecordKey = tuple[tuple[str, Any], ...]


def record_key(record: Mapping[str, Any]) -> RecordKey:
    """A hashable key holding every field of the record (the order fields came in is irrelevant)."""
    return tuple(sorted(record.items()))


def single_threaded(model: DelayModel) -> DelayModel:
    """Run the model's estimators on one thread each (in place); returns the model.

    Serving parallelism comes from requests and worker processes; an estimator spreading one
    small prediction over every core only contends with them (measured: a 1,000-flight batch
    in XGBoost took 26 ms on 2 threads, 8 ms on 1, on this 2-core machine under load).
    """
    get_params = getattr(model.pipeline, "get_params", None)
    if get_params is None:
        return model
    thread_options = {
        name: 1 for name in get_params(deep=True) if name.split("__")[-1] in ("n_jobs", "nthread")
    }
    if thread_options:
        model.pipeline.set_params(**thread_options)
    return model


class CachedPredictor:
    """(label, probability) per record; probabilities cached up to `cache_size` records."""

    def __init__(self, model: DelayModel, cache_size: int = 100_000) -> None:
        self.model = model
        self.threshold = model.threshold
        self.cache_size = cache_size
        self._cache: dict[RecordKey, tuple[int, float]] = {}

    def warm(self) -> int:
        """Predict every combination of the required fields' known values; returns how many."""
        if self.cache_size <= 0:
            return 0
        choices = []
        for field in REQUIRED_FIELDS:
            known = self.model.known_values.get(field)
            if not known:
                return 0  # the artifact does not say; the cache fills as requests come
            values = [int(value) for value in known] if field == "MES" else [str(v) for v in known]
            choices.append(values)
        records = [dict(zip(REQUIRED_FIELDS, combo)) for combo in itertools.product(*choices)]
        records = records[: self.cache_size]
        self.predict(records)
        return len(records)

    def predict(self, records: Sequence[Mapping[str, Any]]) -> tuple[list[int], list[float]]:
        """Labels (at the model's threshold) and delay probabilities, in the records' order."""
        if self.cache_size <= 0:
            probabilities, labels, _ = self.model.decide(records)
            return [int(label) for label in labels], [float(p) for p in probabilities]
        cache = self._cache
        keys = [record_key(record) for record in records]
        missing: dict[RecordKey, Mapping[str, Any]] = {}
        for key, record in zip(keys, records):
            if key not in cache:
                missing[key] = record
        if missing:
            self._fill(missing)
        answers = [cache.get(key) for key in keys]
        if any(answer is None for answer in answers):  # the cache was full: predict the rest
            return self._predict_uncached(records, answers)
        return [answer[0] for answer in answers], [answer[1] for answer in answers]

    def _fill(self, missing: Mapping[RecordKey, Mapping[str, Any]]) -> None:
        # Labels come from the model: each regime (fed, stale, minimal) has its own threshold.
        probabilities, labels, _ = self.model.decide(list(missing.values()))
        room = self.cache_size - len(self._cache)
        for key, probability, label in itertools.islice(zip(missing, probabilities, labels), max(room, 0)):
            self._cache[key] = (int(label), float(probability))

    def _predict_uncached(
        self, records: Sequence[Mapping[str, Any]], answers: list[tuple[int, float] | None]
    ) -> tuple[list[int], list[float]]:
        pending = [index for index, answer in enumerate(answers) if answer is None]
        probabilities, labels, _ = self.model.decide([records[index] for index in pending])
        for index, probability, label in zip(pending, probabilities, labels):
            answers[index] = (int(label), float(probability))
        return [answer[0] for answer in answers], [answer[1] for answer in answers]
