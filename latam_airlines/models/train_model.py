"""Fit a DelayModel on a processed feature table. (First cut: refined under issue 3.)"""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import pandas as pd
import sklearn
import xgboost
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from latam_airlines.errors import InputError
from latam_airlines.features import TARGET
from latam_airlines.models.delay_model import DelayModel

CATEGORICAL = ["OPERA", "TIPOVUELO", "MES"]


def train(processed: pd.DataFrame, model: str = "xgb", seed: int = 42, **options) -> DelayModel:
    """Fit `model` on the processed table and return a DelayModel."""
    if TARGET not in processed.columns:
        raise InputError(f"the processed table has no target column {TARGET!r}", column=TARGET)
    if model != "xgb":
        raise InputError(f"unknown model {model!r}; expected xgb", value=model)
    target = processed[TARGET].astype(int)
    inputs = processed[CATEGORICAL].astype("string").astype(object)
    positives = max(int(target.sum()), 1)
    estimator = xgboost.XGBClassifier(
        n_estimators=200, max_depth=4, learning_rate=0.1, random_state=seed,
        scale_pos_weight=(len(target) - positives) / positives, n_jobs=2,
    )  # fmt: skip
    pipeline = Pipeline(
        [
            ("encode", ColumnTransformer([("onehot", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)])),
            ("classify", estimator),
        ]
    )
    pipeline.fit(inputs, target)
    fingerprint = hashlib.sha256(
        pd.util.hash_pandas_object(processed, index=False).to_numpy().tobytes()
    ).hexdigest()
    return DelayModel(
        pipeline=pipeline,
        features=CATEGORICAL,
        categorical=CATEGORICAL,
        known_values={c: sorted(inputs[c].dropna().unique().tolist()) for c in CATEGORICAL},
        defaults={},
        threshold=0.5,
        metadata={
            "model": model,
            "version": f"{model}-{fingerprint[:8]}",
            "trained_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "data_fingerprint": fingerprint,
            "rows": int(len(processed)),
            "library_versions": {
                "sklearn": sklearn.__version__,
                "xgboost": xgboost.__version__,
                "pandas": pd.__version__,
                "numpy": np.__version__,
            },
        },
    )
