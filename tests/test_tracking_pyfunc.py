"""The MLflow pyfunc model labels as `DelayModel.predict` and the API do: each row at the
threshold of the regime that answered it (rich records: the full tier's; minimal records: the
minimal tiers', which follow the level), loaded in-process from the artifact it wraps."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("mlflow")

from latam_airlines.models import load_model  # noqa: E402
from latam_airlines.tracking.pyfunc import ARTIFACT_KEY, DelayModelPyfunc  # noqa: E402


def test_pyfunc_labels_rich_and_minimal_records_as_the_delay_model(
    api_model_path: Path, small_features: pd.DataFrame
) -> None:
    model = load_model(api_model_path)
    wrapper = DelayModelPyfunc()
    wrapper.load_context(SimpleNamespace(artifacts={ARTIFACT_KEY: str(api_model_path)}))
    rich = small_features.drop(columns=["atraso_15"]).sample(300, random_state=0)
    minimal = (
        small_features[["OPERA", "TIPOVUELO", "MES"]]
        .drop_duplicates()
        .sort_values(["OPERA", "TIPOVUELO", "MES"])
    )
    for records in (minimal, rich, pd.concat([rich, minimal], ignore_index=True)):
        answer = wrapper.predict(None, records.reset_index(drop=True))
        assert answer["delayed"].tolist() == model.predict(records)
        np.testing.assert_allclose(answer["delay_probability"], model.predict_proba(records))
        probability, threshold, regime = model.decide_with_thresholds(records)
        np.testing.assert_allclose(answer["threshold"], threshold)
        assert answer["regime"].tolist() == regime.tolist()
    # What makes the test bite: minimal records are not labelled at the full tier's threshold.
    assert set(answer["regime"]) >= {"fed", "minimal", "minimal_stale"}
    single = (answer["delay_probability"] >= model.threshold).astype(int)
    assert (single != answer["delayed"]).any()
