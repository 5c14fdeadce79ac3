"""The glassbox Trainer: a small Keras binary classifier over tf.Examples, as a TFX component."""

from __future__ import annotations

from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter
from tfx.utils import json_utils

from glassbox import keys
from glassbox.components.trainer import executor
from glassbox.training.config import TrainingConfig


class TrainerSpec(ComponentSpec):
    """Channels and parameters of the glassbox Trainer; list parameters are JSON strings."""

    PARAMETERS = {
        keys.LABEL_KEY: ExecutionParameter(type=str),
        keys.NUMERIC_FEATURES_KEY: ExecutionParameter(type=str),
        keys.CATEGORICAL_FEATURES_KEY: ExecutionParameter(type=str),
        keys.HIDDEN_UNITS_KEY: ExecutionParameter(type=str),
        keys.EPOCHS_KEY: ExecutionParameter(type=int),
        keys.BATCH_SIZE_KEY: ExecutionParameter(type=int),
        keys.LEARNING_RATE_KEY: ExecutionParameter(type=float),
        keys.SEED_KEY: ExecutionParameter(type=int),
    }
    INPUTS = {
        keys.EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples),
    }
    OUTPUTS = {
        keys.MODEL_KEY: ChannelParameter(type=standard_artifacts.Model),
    }


class Trainer(base_component.BaseComponent):
    """Trains a Keras binary classifier on the 'train' split of Examples and exports a Model.

    The Model artifact holds a SavedModel in ``Format-Serving/`` whose ``serving_default``
    signature takes serialized tf.Examples (input ``examples``) and returns ``probabilities``,
    as TFX Trainer modules export them, so TFMA, the glassbox Evaluator and the Pusher take it.
    """

    SPEC_CLASS = TrainerSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

    def __init__(self, examples: types.BaseChannel, config: TrainingConfig):
        """Builds the component.

        Args:
          examples: Examples with a 'train' split, e.g. from CsvExampleGen.
          config: the label, features and training settings (checked when it is built).
        """
        if not isinstance(config, TrainingConfig):
            raise TypeError(f"Trainer config must be a TrainingConfig, got {type(config).__name__}")
        super().__init__(
            spec=TrainerSpec(
                examples=examples,
                label=config.label,
                numeric_features=json_utils.dumps(list(config.numeric_features)),
                categorical_features=json_utils.dumps(list(config.categorical_features)),
                hidden_units=json_utils.dumps(list(config.hidden_units)),
                epochs=config.epochs,
                batch_size=config.batch_size,
                learning_rate=config.learning_rate,
                seed=config.seed,
                model=types.Channel(type=standard_artifacts.Model),
            )
        )
