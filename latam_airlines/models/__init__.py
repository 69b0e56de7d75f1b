"""Train / evaluate / tune / predict; the saved model artifact."""

from latam_airlines.models.delay_model import REQUIRED_FIELDS, DelayModel, load_model
from latam_airlines.models.train_model import TrainConfig, holdout_evaluation, train

__all__ = ["REQUIRED_FIELDS", "DelayModel", "TrainConfig", "holdout_evaluation", "load_model", "train"]
