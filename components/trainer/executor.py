"""Executor of the glassbox Trainer: resolves the train split, then runs `train_and_export`."""

from __future__ import annotations

from typing import Any, Dict, List

from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils
from tfx.utils import json_utils, path_utils

from glassbox import keys
from glassbox.data.examples import resolve_example_files
from glassbox.training.config import TrainingConfig
from glassbox.training.train import train_and_export


class Executor(base_executor.BaseExecutor):
    """Trains on the examples' train split; exports the SavedModel to the Model's Format-Serving/."""

    def Do(
        self,
        input_dict: Dict[str, List[types.Artifact]],
        output_dict: Dict[str, List[types.Artifact]],
        exec_properties: Dict[str, Any],
    ) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        config = TrainingConfig(
            label=exec_properties[keys.LABEL_KEY],
            numeric_features=json_utils.loads(exec_properties[keys.NUMERIC_FEATURES_KEY]),
            categorical_features=json_utils.loads(exec_properties[keys.CATEGORICAL_FEATURES_KEY]),
            hidden_units=json_utils.loads(exec_properties[keys.HIDDEN_UNITS_KEY]),
            epochs=exec_properties[keys.EPOCHS_KEY],
            batch_size=exec_properties[keys.BATCH_SIZE_KEY],
            learning_rate=exec_properties[keys.LEARNING_RATE_KEY],
            seed=exec_properties[keys.SEED_KEY],
        )
        examples = artifact_utils.get_single_instance(input_dict[keys.EXAMPLES_KEY])
        model = artifact_utils.get_single_instance(output_dict[keys.MODEL_KEY])
        train_and_export(
            resolve_example_files(examples.uri, [keys.TRAIN_SPLIT]),
            path_utils.serving_model_dir(model.uri),
            config,
        )
