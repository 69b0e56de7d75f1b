"""Train / evaluate / tune / predict; the saved model artifact."""

from latam_airlines.models.artifact import REQUIRED_FIELDS, DelayModel, load_model
from latam_airlines.models.training import TrainConfig, holdout_evaluation, train

__all__ = ["REQUIRED_FIELDS", "DelayModel", "TrainConfig", "holdout_evaluation", "load_model", "train"]
