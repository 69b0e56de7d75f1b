"""Train / evaluate / compare / tune / predict. Rooms: training.py (protocol),
training_data.py (input checks), pipelines.py (estimators, candidates), feed_tiers.py and
calibration.py (tiers), artifact.py (DelayModel, save/load), compare.py (model selection)."""

from latam_airlines.models.artifact import REQUIRED_FIELDS, DelayModel, load_model
from latam_airlines.models.training import TrainConfig, holdout_evaluation, train

__all__ = ["REQUIRED_FIELDS", "DelayModel", "TrainConfig", "holdout_evaluation", "load_model", "train"]
