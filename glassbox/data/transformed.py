"""Transformed features: what a model's preprocessing signatures (``ModelSpec.
preprocessing_function_names``, e.g. TFX's ``transform_features``) compute from serialized
tf.Examples, as the Arrow columns raw features are decoded into, and TFMA's precedence between
them and the raw features.

TFMA (``model_util.get_feature_values_for_model_spec_field``, ``slice_key_extractor``) looks a
model's label and example weight up first in that model's transformed features, then in the raw
ones; a sliced feature first in each model's transformed features, in ModelSpec order, then in the
raw ones. Outputs of several signatures of one model are merged, a later one's winning.
"""

from __future__ import annotations

from typing import Dict, Optional

import pyarrow as pa
import tensorflow as tf

from glassbox.data.parsing import FeatureParser, list_columns


def as_ragged(tensor: tf.Tensor) -> tf.RaggedTensor:
    """A signature's dense output ([n] or [n, ...]) as one row of values per example, as
    ``tf.io.parse_example`` gives a feature (integers and booleans as int64); traceable."""
    if tensor.dtype.is_integer or tensor.dtype == tf.bool:
        tensor = tf.cast(tensor, tf.int64)
    rows = tf.reshape(tensor, [tf.shape(tensor)[0], -1])
    return tf.RaggedTensor.from_tensor(rows, row_splits_dtype=tf.int64)


def record_batch(columns: Dict[str, tf.RaggedTensor]) -> pa.RecordBatch:
    """Ragged transformed features (eager) as tfx_bsl-like list-typed Arrow columns."""
    return record_batch_of_parts(FeatureParser.dense_parts(columns))


def record_batch_of_parts(parts) -> pa.RecordBatch:
    """``FeatureParser.dense_parts`` of transformed features as list-typed Arrow columns."""
    columns = list_columns(parts)
    return pa.RecordBatch.from_arrays(list(columns.values()), list(columns))


def overlay(features: pa.RecordBatch, *transformed: Optional[pa.RecordBatch]) -> pa.RecordBatch:
    """features with the columns of the transformed batches added or put in place of raw ones of
    the same name; the first transformed batch holding a feature wins."""
    transformed = [batch for batch in transformed if batch is not None]
    if not transformed:
        return features
    columns = dict(zip(features.schema.names, features.columns))
    for batch in reversed(transformed):
        columns.update(zip(batch.schema.names, batch.columns))
    return pa.RecordBatch.from_arrays(list(columns.values()), list(columns))
