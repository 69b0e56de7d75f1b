"""The DelayModel as an MLflow pyfunc model: `mlflow.pyfunc.load_model(uri).predict(records)`.

The artifact inside is the project's own joblib file (`DelayModel.save`), so the API, `latam
predict` and MLflow all load the same bytes.
"""

from __future__ import annotations

from typing import Any

import mlflow.pyfunc
import pandas as pd

ARTIFACT_KEY = "delay_model"
# The API's minimal flight record: the pyfunc signature and input example.
INPUT_EXAMPLE = pd.DataFrame([{"OPERA": "Grupo LATAM", "TIPOVUELO": "N", "MES": 3}])


class DelayModelPyfunc(mlflow.pyfunc.PythonModel):
    """predict(frame of flight records) -> frame of delay_probability, delayed."""

    def load_context(self, context: Any) -> None:
        from latam_airlines.models import load_model

        self.delay_model = load_model(context.artifacts[ARTIFACT_KEY])

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        probability = self.delay_model.predict_proba(model_input)
        return pd.DataFrame(
            {
                "delay_probability": probability,
                "delayed": (probability >= self.delay_model.threshold).astype(int),
            }
        )
