"""Interim table -> processed feature table."""

from latam_airlines.features.build_features import (
    EXTRA_FEATURE_COLUMNS,
    SEED_FEATURE_COLUMNS,
    TARGET,
    build_features,
)

__all__ = ["EXTRA_FEATURE_COLUMNS", "SEED_FEATURE_COLUMNS", "TARGET", "build_features"]
