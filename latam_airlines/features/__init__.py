"""Interim table -> processed feature table (build_features.py), and the model inputs:
canonical.py (input fields from raw/API/processed records), feature_sets.py (which features),
transformers.py (FlightFeatures, ReferenceFeatures), outcome_history.py (recent delay rates)."""

from latam_airlines.features.build_features import (
    EXTRA_FEATURE_COLUMNS,
    SEED_FEATURE_COLUMNS,
    TARGET,
    build_features,
)

__all__ = ["EXTRA_FEATURE_COLUMNS", "SEED_FEATURE_COLUMNS", "TARGET", "build_features"]
