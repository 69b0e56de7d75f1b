"""The DelayModel artifact: round trip, minimal records, unknown categories, input errors."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from latam_airlines.errors import InputError
from latam_airlines.models import DelayModel, load_model, train
from latam_airlines.models.calibration import calibrate

MINIMAL = {"OPERA": "Grupo LATAM", "TIPOVUELO": "I", "MES": 7}


def test_artifact_round_trip_gives_identical_probabilities(
    small_model: DelayModel, scl_raw: pd.DataFrame, tmp_path: Path
) -> None:
    path = small_model.save(tmp_path / "model.joblib")
    loaded = load_model(path)
    records = scl_raw.head(300).astype(object).where(scl_raw.head(300).notna(), None).to_dict("records")
    np.testing.assert_array_equal(loaded.predict_proba(records), small_model.predict_proba(records))
    assert loaded.threshold == small_model.threshold
    assert loaded.known_values == small_model.known_values
    for key in ("model", "version", "data_fingerprint", "rows", "library_versions"):
        assert key in loaded.metadata
    assert loaded.metrics["holdout"]["rows"] > 0


def test_an_artifact_round_trips_through_an_s3_bucket(
    small_model: DelayModel, scl_raw: pd.DataFrame, s3_bucket: str
) -> None:
    url = f"{s3_bucket}/models/model.joblib"
    assert small_model.save(url) == url
    records = scl_raw.head(50).astype(object).where(scl_raw.head(50).notna(), None).to_dict("records")
    np.testing.assert_array_equal(load_model(url).predict_proba(records), small_model.predict_proba(records))
    with pytest.raises(InputError, match="no model artifact here"):
        load_model(f"{s3_bucket}/models/absent.joblib")


@pytest.mark.parametrize(
    ("month", "tier"),
    # History ends 2017-12-31: January (2018) starts the day after; July is months on: stale.
    [(1, "minimal"), (7, "minimal_stale")],
)
def test_minimal_records_are_scored_by_the_minimal_tiers(
    small_model: DelayModel, month: int, tier: str
) -> None:
    airlines = small_model.known_values["OPERA"][:6]
    records = [{"OPERA": airline, "TIPOVUELO": "N", "MES": month} for airline in airlines]
    probability, labels, regime = small_model.decide(records)
    assert regime.tolist() == [tier] * len(records)
    assert ((probability > 0) & (probability < 1)).all()
    assert len(np.unique(probability.round(6))) > 1  # airlines differ, not one defaulted answer
    tiers = small_model.pipeline
    prepared = small_model.prepare(records)
    raw = getattr(tiers, tier).predict_proba(prepared)[:, 1]
    expected = calibrate(raw, tiers.calibration[tier])  # its own calibration map
    np.testing.assert_allclose(probability, expected)
    threshold = small_model.thresholds[tier]  # ... and its own threshold
    assert small_model.predict(records) == labels.tolist() == [int(p >= threshold) for p in probability]


def test_rich_records_use_the_schedule_and_destination(small_model: DelayModel) -> None:
    early = {**MINIMAL, "Fecha-I": "2017-07-20 06:10:00", "Des-I": "SCFA"}
    late = {**MINIMAL, "Fecha-I": "2017-07-20 21:40:00", "Des-I": "SCFA"}
    assert small_model.pipeline.full_rows(small_model.prepare([early, late])).all()
    probability = small_model.predict_proba([early, late, MINIMAL])
    assert len(set(probability.round(6))) == 3


def test_unknown_categories_are_scored_and_flagged(small_model: DelayModel) -> None:
    records = [
        {"OPERA": "Airline Nobody Knows", "TIPOVUELO": "I", "MES": 7},
        {
            "OPERA": "Grupo LATAM",
            "TIPOVUELO": "N",
            "MES": 3,
            "Fecha-I": "2017-03-02 10:00:00",
            "Des-I": "XXXX",
        },
    ]
    probability = small_model.predict_proba(records)
    assert np.isfinite(probability).all() and ((probability >= 0) & (probability <= 1)).all()
    assert small_model.unknown_values(records) == [(0, "OPERA", "Airline Nobody Knows"), (1, "Des_I", "XXXX")]


def test_records_without_required_fields_are_rejected(small_model: DelayModel) -> None:
    with pytest.raises(InputError, match="MES"):
        small_model.predict_proba([{"OPERA": "Grupo LATAM", "TIPOVUELO": "I"}])


def test_load_model_rejects_missing_and_corrupt_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no model artifact"):
        load_model(tmp_path / "absent.joblib")
    corrupt = tmp_path / "corrupt.joblib"
    corrupt.write_bytes(b"not a joblib file")
    with pytest.raises(InputError, match="not a readable model artifact"):
        load_model(corrupt)


def test_load_model_rejects_an_artifact_of_another_format(tmp_path: Path) -> None:
    from latam_airlines.models.artifact import ARTIFACT_FORMAT

    path = tmp_path / "other_format.joblib"
    joblib.dump({"format": ARTIFACT_FORMAT - 1, "model": DelayModel(None, [], {})}, path)
    with pytest.raises(
        InputError, match=rf"format {ARTIFACT_FORMAT - 1}\b.*format {ARTIFACT_FORMAT}\b.*latam train"
    ):
        load_model(path)
    joblib.dump({"format": ARTIFACT_FORMAT, "model": DelayModel(None, [], {})}, path)
    assert isinstance(load_model(path), DelayModel)  # its own format loads


def _pickled_with_a_gone_class(path: Path, module_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An artifact whose pickle names `module_name.Gone` (a module or class renamed since)."""
    gone = type("Gone", (), {"__module__": module_name})
    module = sys.modules.get(module_name) or types.ModuleType(module_name)
    monkeypatch.setitem(sys.modules, module_name, module)
    monkeypatch.setattr(module, "Gone", gone, raising=False)
    joblib.dump({"format": 1, "model": gone()}, path)
    monkeypatch.undo()


@pytest.mark.parametrize(
    "module_name",
    [
        "latam_airlines.models.delay_model",  # a module of the format-1 layout: gone
        "latam_airlines.models.artifact",  # a module still there, the class gone
    ],
)
def test_an_artifact_of_the_old_layout_asks_for_a_retrain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module_name: str
) -> None:
    path = tmp_path / "old.joblib"
    _pickled_with_a_gone_class(path, module_name, monkeypatch)
    with pytest.raises(InputError, match=r"format 1\b.*format 2\b.*retrain with `latam train`"):
        load_model(path)


def test_train_rejects_a_table_without_target(scl_features: pd.DataFrame) -> None:
    with pytest.raises(InputError, match="atraso_15"):
        train(scl_features.drop(columns="atraso_15").head(100))


@pytest.mark.slow  # a catboost fit
def test_catboost_artifact_round_trips_and_scores_unknown_categories(
    catboost_model_path: Path, scl_raw: pd.DataFrame, tmp_path: Path
) -> None:
    model = load_model(catboost_model_path)
    assert model.pipeline.full.named_steps["classify"].n_jobs == 1  # serving: one thread
    loaded = load_model(model.save(tmp_path / "catboost.joblib"))
    records = scl_raw.head(200).astype(object).where(scl_raw.head(200).notna(), None).to_dict("records")
    np.testing.assert_array_equal(loaded.predict_proba(records), model.predict_proba(records))
    unknown = {**MINIMAL, "OPERA": "No Such Airline", "Fecha-I": "2017-07-20 06:10:00", "Des-I": "ZZZZ"}
    probability = loaded.predict_proba([unknown, MINIMAL])
    assert np.isfinite(probability).all() and ((probability > 0) & (probability < 1)).all()
    assert model.metrics["holdout"]["roc_auc"] > 0.55


def test_a_batch_may_mix_raw_and_processed_destination_spellings(small_model: DelayModel) -> None:
    raw = {**MINIMAL, "Fecha-I": "2017-07-20 06:10:00", "Des-I": "SCFA"}
    processed = {**MINIMAL, "Fecha-I": "2017-07-20 21:40:00", "Des_I": "SCIE"}
    mixed = small_model.predict_proba([raw, processed])
    alone = [small_model.predict_proba([record])[0] for record in (raw, processed)]
    np.testing.assert_allclose(mixed, alone)
    assert small_model.pipeline.full_rows(small_model.prepare([raw, processed])).all()


def test_recorded_outcomes_move_recent_rates_of_later_days_only(small_model: DelayModel) -> None:
    import copy

    def recent_rates(model: DelayModel, flights: list[dict]) -> np.ndarray:
        features = model.pipeline.full.named_steps["features"]
        names = list(features.get_feature_names_out())
        columns = [i for i, name in enumerate(names) if name.startswith("recent_rate[")]
        assert columns, names
        return features.transform(model.prepare(flights))[:, columns]

    model = copy.deepcopy(small_model)
    assert model.outcomes_until == "2017-12-31"
    january = {**MINIMAL, "MES": 1, "Des-I": "SCFA"}
    flights = [{**january, "Fecha-I": f"2018-01-{day:02d} 10:00:00"} for day in (1, 5, 10)]
    before, rates_before = model.predict_proba(flights), recent_rates(model, flights)
    # January 1-7 2018: every Grupo LATAM flight to SCFA left late.
    late = [{**january, "Fecha-I": f"2018-01-0{day} 10:00:00"} for day in range(1, 8)]
    assert model.record_outcomes(late, np.ones(len(late))) == len(late)
    assert model.outcomes_until == "2018-01-07"
    after, rates_after = model.predict_proba(flights), recent_rates(model, flights)
    # January 1 sees nothing of its own day: neither its rates nor its probability move.
    np.testing.assert_array_equal(rates_after[0], rates_before[0])
    assert after[0] == before[0]
    assert (rates_after[1] >= rates_before[1]).all() and (
        rates_after[1] > rates_before[1]
    ).any()  # sees Jan 1-4
    assert (rates_after[2] > rates_before[2]).any()  # January 10 is past the history: the window slides back
    assert not np.allclose(after[1:], before[1:])  # and the answers follow the rates
    with pytest.raises(InputError, match="0/1"):
        model.record_outcomes(late, np.full(len(late), 2))


def test_outcome_gap_counts_days_from_the_history_to_the_latest_flight(small_model: DelayModel) -> None:
    dated = [{**MINIMAL, "MES": 1, "Fecha-I": "2018-01-10 10:00:00", "Des-I": "SCFA"}]
    assert small_model.outcome_gap_days(dated) == 10  # history ends 2017-12-31
    assert small_model.outcome_gap_days([MINIMAL]) is None  # no day of month: no date
