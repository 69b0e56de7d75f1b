"""The MLflow pyfunc model labels as `DelayModel.predict` and the API do: each row at the
threshold of the regime that answered it (rich records: the full tier's; minimal records: the
minimal tiers', which follow the level), loaded in-process from the artifact it wraps."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from latam_airlines.models import load_model

# Looked up, not imported: latam_airlines.tracking.pyfunc imports MLflow, which costs every
# collecting worker ~1.5 CPU-s, the fast loop's included; the tests import it.
if importlib.util.find_spec("mlflow") is None:
    pytest.skip('the pyfunc tests need MLflow: pip install -e ".[test]"', allow_module_level=True)


def test_pyfunc_labels_rich_and_minimal_records_as_the_delay_model(
    api_model_path: Path, small_features: pd.DataFrame
) -> None:
    from latam_airlines.tracking.pyfunc import ARTIFACT_KEY, DelayModelPyfunc

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
    # What makes the test bite: the regimes answer at different thresholds, so one threshold for
    # every row (the old wrapper's) is not what the rows get.
    assert set(answer["regime"]) >= {"fed", "minimal", "minimal_stale"}
    assert answer.groupby("regime")["threshold"].first().nunique() > 1


def test_a_rich_record_keeps_its_fields_through_mlflows_schema_enforcement(
    api_model_path: Path, small_features: pd.DataFrame, tmp_path: Path
) -> None:
    # Saved and loaded as MLflow does (a local folder, no server): the signature must pass on
    # the rich fields, or every record is answered by the minimal tier. A frame with a missing
    # hour (floats) and one with whole numbers (ints) are both accepted.
    import mlflow.pyfunc
    from mlflow.models import ModelSignature

    from latam_airlines.tracking.pyfunc import ARTIFACT_KEY, INPUT_EXAMPLE, DelayModelPyfunc, input_schema

    model = load_model(api_model_path)
    mlflow.pyfunc.save_model(
        tmp_path / "pyfunc",
        python_model=DelayModelPyfunc(),
        artifacts={ARTIFACT_KEY: str(api_model_path)},
        signature=ModelSignature(inputs=input_schema()),
        input_example=INPUT_EXAMPLE,
        pip_requirements=[],
    )
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "pyfunc"))
    rich = small_features.drop(columns=["atraso_15"]).sample(200, random_state=1).reset_index(drop=True)
    with_gap = rich.astype({"HORA": float})
    with_gap.loc[0, "HORA"] = np.nan
    for records in (rich, with_gap):
        answer = loaded.predict(records)
        assert answer["regime"].tolist() == model.decide_with_thresholds(records)[2].tolist()
        np.testing.assert_allclose(answer["delay_probability"], model.predict_proba(records))
    assert "minimal" not in set(answer["regime"][1:])  # rich rows are answered as rich
    with pytest.raises(Exception, match="OPERA"):  # a required field missing is refused
        loaded.predict(rich.drop(columns=["OPERA"]))
