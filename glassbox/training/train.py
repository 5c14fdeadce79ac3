"""Training end to end: TFRecord files of tf.Examples in, a serving SavedModel out."""

from __future__ import annotations

import itertools
from typing import Sequence

from glassbox.data.examples import read_records
from glassbox.training.config import TrainingConfig
from glassbox.training.examples import infer_feature_spec, parse_columns
from glassbox.training.model import export_serving_model, train_model


def train_and_export(example_files: Sequence[str], export_dir: str, config: TrainingConfig) -> None:
    """Trains config's classifier on the examples of example_files and exports it to export_dir.

    Feature types (float, int or string) are taken from the first example.
    """
    records = list(itertools.chain.from_iterable(read_records(f) for f in example_files))
    if not records:
        raise ValueError(f"no training examples in {list(example_files)}")
    spec = infer_feature_spec(records[0], config.feature_keys + (config.label,))
    model = train_model(parse_columns(records, spec), config)
    export_serving_model(model, spec, export_dir)
