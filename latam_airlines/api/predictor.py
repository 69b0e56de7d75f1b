"""Predictions for validated flight records, with a cache keyed by the record's fields.

The model is a pure function of a record, and the minimal record (OPERA, TIPOVUELO, MES) has a
few hundred combinations, so nearly every request is a dictionary lookup. Records the cache
has not seen are predicted together in one vectorised call to the model.

Bounded from outside: records reach the cache validated (text fields at most 64 characters,
categories the model knows) and holding only the fields the model reads; the cache holds the
warmed minimal records for good, and other records up to `cache_size` entries and `cache_bytes`
(an estimate that errs high), after which that part is emptied and fills again.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from latam_airlines.models import REQUIRED_FIELDS, DelayModel
from latam_airlines.models.schedule_feed import reads_schedule, schedule_status

RecordKey = tuple[tuple[str, Any], ...]
# (label, probability), plus the schedule status for a model reading planned-schedule counts.
Answer = tuple[Any, ...]
# Labels and probabilities (and schedule statuses) of a batch, as lists.
Answers = tuple[list[Any], ...]


def record_key(record: Mapping[str, Any]) -> RecordKey:
    """A hashable key holding every field of the record (the order fields came in is irrelevant)."""
    return tuple(sorted(record.items()))


# Bytes of one cache entry beyond its text: the dict slot, the key tuple and its pair tuples,
# the answer tuple, ints and floats (CPython 3.11, measured with tracemalloc, rounded up).
ENTRY_OVERHEAD_BYTES = 400
FIELD_OVERHEAD_BYTES = 120


def entry_bytes(key: RecordKey) -> int:
    """A high estimate of the memory one cache entry takes."""
    size = ENTRY_OVERHEAD_BYTES
    for name, value in key:
        size += FIELD_OVERHEAD_BYTES + len(name) + (len(value) if isinstance(value, str) else 0)
    return size


def single_threaded(model: DelayModel) -> DelayModel:
    """Run the model's estimators on one thread each (in place); returns the model.

    Serving parallelism comes from requests and worker processes; an estimator spreading one
    small prediction over every core only contends with them (measurement: "Thread counts" in
    reports/model_selection.md).
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
    """(label, probability) per record; probabilities cached up to `cache_size` records and
    about `cache_bytes` bytes (the warmed minimal records are kept apart, never dropped)."""

    def __init__(self, model: DelayModel, cache_size: int = 100_000, cache_bytes: int = 32 * 2**20) -> None:
        self.model = model
        self.cache_size = cache_size
        self.cache_bytes = cache_bytes
        self.cached_bytes = 0  # estimate of the dynamic part
        self.schedule = reads_schedule(model)  # answers also say what schedule counts stood on
        self._pinned: dict[RecordKey, Answer] = {}
        self._cache: dict[RecordKey, Answer] = {}

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
        for record, answer in zip(records, self._answers(records)):
            self._pinned[record_key(record)] = answer
        return len(records)

    def _answers(self, records: Sequence[Mapping[str, Any]]) -> list[Answer]:
        """(label, probability) per record from the model, plus, for a model reading planned-
        schedule counts, what they stood on ("booked", "typical day" or None: schedule_status)."""
        probabilities, labels, regime = self.model.decide(records)
        answers = [(int(label), float(probability)) for label, probability in zip(labels, probabilities)]
        if not self.schedule:
            return answers
        statuses = schedule_status(self.model, records, regime)
        return [(*answer, status) for answer, status in zip(answers, statuses)]

    def _columns(self, answers: Sequence[Answer]) -> Answers:
        """Labels and probabilities (and schedule statuses) as lists, in the answers' order."""
        columns = ([answer[0] for answer in answers], [answer[1] for answer in answers])
        return (*columns, [answer[2] for answer in answers]) if self.schedule else columns

    def cached(self, records: Sequence[Mapping[str, Any]]) -> Answers | None:
        """Labels and probabilities when every record is cached, else None (no model call)."""
        if self.cache_size <= 0:
            return None
        pinned, cache = self._pinned, self._cache
        answers = []
        for record in records:
            key = record_key(record)
            answer = pinned.get(key) or cache.get(key)
            if answer is None:
                return None
            answers.append(answer)
        return self._columns(answers)

    def predict(self, records: Sequence[Mapping[str, Any]]) -> Answers:
        """Labels (at the model's threshold) and delay probabilities, in the records' order (and,
        for a model reading planned-schedule counts, what they stood on per record)."""
        if self.cache_size <= 0:
            return self._columns(self._answers(records))
        pinned = self._pinned
        keys = [record_key(record) for record in records]
        missing: dict[RecordKey, Mapping[str, Any]] = {}
        for key, record in zip(keys, records):
            if key not in pinned and key not in self._cache:
                missing[key] = record
        if missing:
            self._fill(missing)
        cache = self._cache
        answers = [pinned.get(key) or cache.get(key) for key in keys]
        if any(answer is None for answer in answers):  # the cache was emptied meanwhile: predict the rest
            return self._predict_uncached(records, answers)
        return self._columns(answers)

    def _fill(self, missing: Mapping[RecordKey, Mapping[str, Any]]) -> None:
        # Labels come from the model: each regime (fed, stale, minimal) has its own threshold.
        fresh = self._answers(list(missing.values()))
        for key, answer in itertools.islice(zip(missing, fresh), self.cache_size):
            size = entry_bytes(key)
            if len(self._cache) >= self.cache_size or self.cached_bytes + size > self.cache_bytes:
                # Full: start again rather than track recency on the hot path; the pinned
                # minimal records keep answering from memory meanwhile.
                self._cache, self.cached_bytes = {}, 0
            self._cache[key] = answer
            self.cached_bytes += size

    def _predict_uncached(
        self, records: Sequence[Mapping[str, Any]], answers: list[Answer | None]
    ) -> Answers:
        pending = [index for index, answer in enumerate(answers) if answer is None]
        for index, answer in zip(pending, self._answers([records[index] for index in pending])):
            answers[index] = answer
        return self._columns(answers)
