"""Reading and checking SimpleModelConfigs: every field that cannot be honoured is refused up
front, naming it, before any example is read."""

from __future__ import annotations

import math

from glassbox import config_files
from glassbox.errors import ConfigError
from glassbox.protos.simple_model_config_pb2 import SimpleModelConfig

DEFAULT_SAMPLE_SIZE = 10000
DEFAULT_HOLDOUT_FRACTION = 0.3
DEFAULT_TREE_MAX_DEPTH = 3
DEFAULT_REGULARIZATION_C = 1.0
# The metrics, each with whether higher is better and the tasks it scores.
BINARY, MULTICLASS, REGRESSION = "binary", "multiclass", "regression"
METRICS = {
    "auc": (True, (BINARY,)),
    "accuracy": (True, (BINARY, MULTICLASS)),
    "log_loss": (False, (BINARY, MULTICLASS)),
    "rmse": (False, (REGRESSION,)),
    "mae": (False, (REGRESSION,)),
}
DEFAULT_METRICS = {BINARY: "auc", MULTICLASS: "accuracy", REGRESSION: "rmse"}


class SimpleModelConfigError(ConfigError):
    """A SimpleModelConfig field no evaluation could honour (the message names it)."""


def load_simple_model_config(path: str) -> SimpleModelConfig:
    """Reads a SimpleModelConfig from a text-proto or JSON file (errors name the file), checked."""
    config = config_files.load_config(
        path, SimpleModelConfig, "simple model config", SimpleModelConfigError
    )
    check_simple_model_config(config)
    return config


def _field(name: str) -> str:
    return f"SimpleModelConfig field {name!r}"


def check_simple_model_config(config: SimpleModelConfig) -> None:
    """Refuses an unknown metric or task, a metric the task cannot score, a hold-out fraction
    outside (0, 1), a regularisation that is not a positive number, an empty feature name.

    Raises:
      SimpleModelConfigError: naming the field and its value.
    """
    if config.metric and config.metric not in METRICS:
        raise SimpleModelConfigError(
            f"{_field('metric')} is {config.metric!r}, not one of {', '.join(METRICS)}"
        )
    if config.task not in SimpleModelConfig.Task.values():
        raise SimpleModelConfigError(f"{_field('task')} is {config.task}, not a Task")
    task = task_name(config.task)
    if config.metric and task and task not in METRICS[config.metric][1]:
        raise SimpleModelConfigError(
            f"{_field('metric')} {config.metric!r} does not score a {task} task (task {task}: "
            f"{', '.join(m for m, (_, tasks) in METRICS.items() if task in tasks)})"
        )
    fraction = config.holdout_fraction
    if fraction and not 0 < fraction < 1:
        raise SimpleModelConfigError(
            f"{_field('holdout_fraction')} must be between 0 and 1 (exclusive), got {fraction}"
        )
    c = config.regularization_c
    if c and not (c > 0 and math.isfinite(c)):
        raise SimpleModelConfigError(
            f"{_field('regularization_c')} must be a finite number > 0, got {c}"
        )
    for field in ("features", "categorical_features"):
        if any(not name for name in getattr(config, field)):
            raise SimpleModelConfigError(f"{_field(field)} holds an empty name")


def task_name(task: int) -> str:
    """'binary', 'multiclass', 'regression', or '' (unspecified: inferred from the data)."""
    return {
        SimpleModelConfig.BINARY: BINARY,
        SimpleModelConfig.MULTICLASS: MULTICLASS,
        SimpleModelConfig.REGRESSION: REGRESSION,
    }.get(task, "")
