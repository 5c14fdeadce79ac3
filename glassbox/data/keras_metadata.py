"""What a SavedModel written by tf_keras says of its compilation (``keras_metadata.pb``), read
without loading Keras or the model.

TFMA, for a Keras model and ``options.include_default_metrics`` (true unless set false), also
computes the compiled loss (named ``loss``) and metrics (by their names); a SavedModel without
Keras metadata (e.g. Keras 3's ``model.export()``, or a plain ``tf.Module``) carries none.
"""

from __future__ import annotations

import json
import os
from typing import Any, List, Optional

import tensorflow as tf
from tf_keras.protobuf import saved_metadata_pb2

_METADATA_FILE = "keras_metadata.pb"
_ROOT = "root"
# TFMA's name for the compiled loss.
LOSS_NAME = "loss"


def training_config(model_dir: str) -> Optional[dict]:
    """The SavedModel's Keras training config (compile()'s loss, metrics, weighted_metrics,
    loss_weights, as tf_keras serialized them); {} when it was not compiled; None when it carries
    no Keras metadata."""
    path = os.path.join(model_dir, _METADATA_FILE)
    if not tf.io.gfile.exists(path):
        return None
    metadata = saved_metadata_pb2.SavedMetadata()
    with tf.io.gfile.GFile(path, "rb") as f:
        metadata.ParseFromString(f.read())
    root = next((node for node in metadata.nodes if node.node_path == _ROOT), None)
    if root is None:
        return None
    return json.loads(root.metadata or "{}").get("training_config") or {}


def compiled_metric_names(model_dir: str) -> Optional[List[str]]:
    """The names TFMA gives the compiled loss and metrics of the SavedModel in model_dir: 'loss'
    and each metric's name (a string metric, e.g. 'accuracy', keeps its string); [] when it was
    not compiled; None when the SavedModel carries no Keras metadata."""
    training = training_config(model_dir)
    if training is None:
        return None
    names = [LOSS_NAME] if training.get("loss") else []
    for field in ("metrics", "weighted_metrics"):
        names += [name for name in _names(training.get(field)) if name not in names]
    return names


def _names(metrics: Any) -> List[str]:
    """Metric names of compile()'s metrics argument as serialized: names, metric configs, or
    lists or dicts of them (per model output)."""
    if metrics is None:
        return []
    if isinstance(metrics, str):
        return [metrics]
    if isinstance(metrics, dict) and "class_name" in metrics:
        return [metrics.get("config", {}).get("name") or metrics["class_name"]]
    values = metrics.values() if isinstance(metrics, dict) else metrics
    return [name for value in values for name in _names(value)]
