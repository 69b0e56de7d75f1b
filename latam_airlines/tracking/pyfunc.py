"""The DelayModel as an MLflow pyfunc model: `mlflow.pyfunc.load_model(uri).predict(records)`.

The artifact inside is the project's own joblib file (`DelayModel.save`), so the API, `latam
predict` and MLflow all load the same bytes, and label alike: each row at the threshold of the
regime that answered it (`DelayModel.decide`), never one threshold for every row.
"""

from __future__ import annotations

from typing import Any

import mlflow.pyfunc
import pandas as pd

ARTIFACT_KEY = "delay_model"
# The API's minimal flight record: the pyfunc input example.
INPUT_EXAMPLE = pd.DataFrame([{"OPERA": "Grupo LATAM", "TIPOVUELO": "N", "MES": 3}])


def input_schema():
    """The pyfunc signature's inputs: every field of the API's flight record (api/schemas.py,
    `Flight`), only OPERA, TIPOVUELO and MES required. MLflow's schema enforcement passes on
    only the signature's columns: with the minimal three alone, a rich record (hour,
    destination, day) lost its fields and was answered by the minimal tier. Optional whole
    numbers are of any type: MLflow turns neither int64 into double nor a float column with a
    gap into long, and a frame holds them as either; the model checks their values itself."""
    from typing import get_args

    from mlflow.types.schema import AnyType, ColSpec, Schema

    from latam_airlines.api.schemas import Flight

    columns = []
    for name, field in Flight.model_fields.items():
        kinds = [
            kind for kind in (get_args(field.annotation) or (field.annotation,)) if kind is not type(None)
        ]
        whole = "long" if field.is_required() else AnyType()
        columns.append(
            ColSpec(whole if kinds[0] is int else "string", field.alias or name, field.is_required())
        )
    return Schema(columns)


def delay_answers(delay_model: Any, flights: pd.DataFrame) -> pd.DataFrame:
    """The pyfunc model's answer per flight: `delay_probability` (calibrated), `threshold` (the
    row's regime's; the minimal regimes' follows the level), `delayed` (`delay_probability >=
    threshold`, as `DelayModel.predict` and the API label) and `regime`."""
    probability, threshold, regime = delay_model.decide_with_thresholds(flights)
    return pd.DataFrame(
        {
            "delay_probability": probability,
            "threshold": threshold,
            "delayed": (probability >= threshold).astype(int),
            "regime": regime.astype(str),
        }
    )


class DelayModelPyfunc(mlflow.pyfunc.PythonModel):
    """predict(frame of flight records) -> frame of `delay_answers`."""

    def load_context(self, context: Any) -> None:
        from latam_airlines.models import load_model

        self.delay_model = load_model(context.artifacts[ARTIFACT_KEY])

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        return delay_answers(self.delay_model, model_input)
