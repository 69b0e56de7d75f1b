"""latam_airlines: flight-delay model for SCL, its REST API, stress tests and anomaly reports.

Every pipeline step is a plain function on DataFrames/paths, so notebooks, the `latam` CLI,
DVC stages and the API call the same code. Heavy modules (models, api) load on first use.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# name -> module that defines it; imported on first attribute access (keeps import light: the
# CLI imports this package, and `latam --help` needs neither pandas nor the models).
_LAZY = {
    "load_raw": "latam_airlines.data",
    "make_dataset": "latam_airlines.data",
    "build_features": "latam_airlines.features",
    "train": "latam_airlines.models",
    "load_model": "latam_airlines.models",
    "DelayModel": "latam_airlines.models",
    "TrainConfig": "latam_airlines.models",
    "evaluate": "latam_airlines.models.evaluate",
    "compare_models": "latam_airlines.models.compare",
    "tune": "latam_airlines.models.tune",
    "predict_flights": "latam_airlines.models.predict",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'latam_airlines' has no attribute {name!r}")


__all__ = ["__version__", *_LAZY]
