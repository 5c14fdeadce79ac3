"""What to train: the label, the features and the training settings, checked once."""

from __future__ import annotations

import dataclasses
from typing import Tuple


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """A binary classifier over numeric and categorical features of tf.Examples.

    Attributes:
      label: feature holding the 0/1 label.
      numeric_features: features fed as numbers (standardised on the training data).
      categorical_features: features fed one-hot over the values seen in training.
      hidden_units: width of each hidden ReLU layer; empty gives a logistic regression.
      epochs: passes over the training data; 0 exports the untrained, randomly initialised model.
      batch_size: examples per gradient step.
      learning_rate: Adam's learning rate.
      seed: seeds initialisation and shuffling: the same seed and data give the same model.
    """

    label: str
    numeric_features: Tuple[str, ...] = ()
    categorical_features: Tuple[str, ...] = ()
    hidden_units: Tuple[int, ...] = (16,)
    epochs: int = 10
    batch_size: int = 64
    learning_rate: float = 0.01
    seed: int = 0

    def __post_init__(self):
        for name in ("numeric_features", "categorical_features", "hidden_units"):
            value = getattr(self, name)
            if isinstance(value, (str, bytes)):
                raise ValueError(
                    f"TrainingConfig.{name} must be a sequence, got the string {value!r}"
                )
            object.__setattr__(self, name, tuple(value))
        if not self.label:
            raise ValueError(
                "TrainingConfig.label is empty: name the feature holding the 0/1 label"
            )
        features = self.feature_keys
        if not features:
            raise ValueError(
                "TrainingConfig has no features: give numeric_features and/or categorical_features"
            )
        repeated = sorted({f for f in features if features.count(f) > 1})
        if repeated:
            raise ValueError(f"TrainingConfig names features {repeated} more than once")
        if self.label in features:
            raise ValueError(f"TrainingConfig.label {self.label!r} is also listed as a feature")
        if any(units < 1 for units in self.hidden_units):
            raise ValueError(
                f"TrainingConfig.hidden_units must all be positive, got {list(self.hidden_units)}"
            )
        if self.epochs < 0:
            raise ValueError(f"TrainingConfig.epochs must be >= 0, got {self.epochs}")
        if self.batch_size < 1:
            raise ValueError(f"TrainingConfig.batch_size must be positive, got {self.batch_size}")
        if not self.learning_rate > 0:
            raise ValueError(
                f"TrainingConfig.learning_rate must be positive, got {self.learning_rate}"
            )

    @property
    def feature_keys(self) -> Tuple[str, ...]:
        """Every model input: numeric features, then categorical ones."""
        return self.numeric_features + self.categorical_features
