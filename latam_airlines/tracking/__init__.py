"""MLflow: experiment runs, the model registry, champion/challenger decisions.

Tracking is best effort: a store that cannot be reached is reported once and the command
carries on (`Tracker`). The registry (`registry.py`) and retraining (`champion.py`) need it.
"""

from latam_airlines.tracking.runs import Tracker, tracking_settings, tracking_uri

__all__ = ["Tracker", "tracking_settings", "tracking_uri"]
