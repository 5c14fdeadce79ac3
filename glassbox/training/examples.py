"""Training data: serialized tf.Examples read into numpy columns.

The same parsing spec serves training and the exported serving signature, so the model parses
features at serving time exactly as it saw them in training.
"""

from __future__ import annotations

from typing import Dict, Sequence

import numpy as np
import tensorflow as tf

FeatureSpec = Dict[str, tf.io.FixedLenFeature]

_DTYPE_OF_KIND = {"float_list": tf.float32, "int64_list": tf.int64, "bytes_list": tf.string}


def infer_feature_spec(record: bytes, keys: Sequence[str]) -> FeatureSpec:
    """One single-valued feature per key, typed as the serialized tf.Example ``record`` stores it."""
    features = tf.train.Example.FromString(record).features.feature
    spec = {}
    for key in keys:
        if key not in features:
            raise ValueError(
                f"feature {key!r} is not in the training examples; they have {sorted(features)}"
            )
        kind = features[key].WhichOneof("kind")
        if kind is None:
            raise ValueError(f"feature {key!r} has no values in the first training example")
        spec[key] = tf.io.FixedLenFeature([1], _DTYPE_OF_KIND[kind])
    return spec


def parse_columns(records: Sequence[bytes], spec: FeatureSpec) -> Dict[str, np.ndarray]:
    """Column arrays of shape [len(records), 1] per spec key (strings as bytes objects)."""
    try:
        parsed = tf.io.parse_example(list(records), spec)
    except tf.errors.InvalidArgumentError as e:
        raise ValueError(
            f"training examples do not all hold one value of each feature "
            f"{sorted(spec)}: {e.message}"
        ) from e
    return {key: value.numpy() for key, value in parsed.items()}
