"""Parsing only the features an evaluation reads, into the Arrow columns tfx_bsl decodes them to.

Metrics and slicing read a few features (labels, weights, sliced features, a named-input model's
inputs); decoding every feature of every example with tfx_bsl costs several times more than
``tf.io.parse_example`` of just those, which also runs inside a TF graph (so in tf.data's
threads, next to the model). ``tf.io.parse_example`` needs each feature's type: a Schema gives
them, else they are learned from batches tfx_bsl decoded (``learn``); a feature not seen yet is
parsed as bytes, and one of another type then fails the parse, which the caller redoes with
tfx_bsl. Without a Schema, a feature that no example of a batch holds is left out of the batch,
as tfx_bsl leaves it out.
"""

from __future__ import annotations

from typing import Dict, FrozenSet, Iterable, Optional, Tuple

import numpy as np
import pyarrow as pa
import tensorflow as tf
from tensorflow_metadata.proto.v0 import schema_pb2

_SCHEMA_TYPES = {
    schema_pb2.INT: tf.int64,
    schema_pb2.FLOAT: tf.float32,
    schema_pb2.BYTES: tf.string,
}
# A feature not seen yet is parsed as bytes (see the module docstring).
_UNSEEN_TYPE = tf.string


def _tf_type(value_type: pa.DataType) -> Optional[tf.DType]:
    """The tf.Example list type tfx_bsl decoded into an Arrow value type (None: no values seen)."""
    if pa.types.is_integer(value_type):
        return tf.int64
    if pa.types.is_floating(value_type):
        return tf.float32
    if pa.types.is_binary(value_type) or pa.types.is_large_binary(value_type):
        return tf.string
    return None


class FeatureParser:
    """Parses a fixed set of features from string tensors of serialized tf.Examples.

    Args:
      names: the features to parse.
      schema: optional serialized TFMD Schema; if given, exactly its features among ``names`` are
        parsed, with its types, and kept in every batch (as tfx_bsl decodes with a Schema).
    """

    def __init__(self, names: Iterable[str], schema: Optional[bytes] = None):
        self._names = sorted(set(names))
        self._types: Dict[str, tf.DType] = {}
        self._keep_empty = schema is not None
        if schema is not None:
            declared = {
                f.name: _SCHEMA_TYPES.get(f.type)
                for f in schema_pb2.Schema.FromString(schema).feature
            }
            self._names = [name for name in self._names if declared.get(name) is not None]
            self._types = {name: declared[name] for name in self._names}

    @property
    def typed_features(self) -> FrozenSet[str]:
        """The features whose type is known (from the Schema or learnt)."""
        return frozenset(self._types)

    def learn(self, features: pa.RecordBatch) -> None:
        """Records the types of the features tfx_bsl decoded, for those not typed yet."""
        for name in self._names:
            index = features.schema.get_field_index(name)
            if name not in self._types and index >= 0:
                dtype = _tf_type(features.schema.field(index).type.value_type)
                if dtype is not None:
                    self._types[name] = dtype

    def parse(self, serialized: tf.Tensor) -> Dict[str, tf.RaggedTensor]:
        """The features of a string tensor of serialized tf.Examples; traceable in a tf.function.

        Raises (when run):
          tf.errors.InvalidArgumentError: a record is not a tf.Example or a feature has another type.
        """
        spec = {
            name: tf.io.RaggedFeature(
                self._types.get(name, _UNSEEN_TYPE), row_splits_dtype=tf.int64
            )
            for name in self._names
        }
        return tf.io.parse_example(serialized, spec)

    @staticmethod
    def dense_parts(parsed: Dict[str, tf.RaggedTensor]) -> Dict[str, Tuple[tf.Tensor, ...]]:
        """``parse``'s output as plain tensors, traceable: per feature its row splits and values;
        string values as their lengths and their bytes joined into one string. (A tf.data iterator
        hands plain tensors to Python without decoding ragged variants, and joined bytes without a
        Python object per value.)"""
        return {
            name: (
                tensor.row_splits,
                tf.strings.length(tensor.values),
                tf.strings.reduce_join(tensor.values),
            )
            if tensor.dtype == tf.string
            else (tensor.row_splits, tensor.values)
            for name, tensor in parsed.items()
        }

    def record_batch(self, parts: Dict[str, Tuple[tf.Tensor, ...]]) -> pa.RecordBatch:
        """``dense_parts``' output as tfx_bsl's list-typed Arrow columns (large_list of int64,
        float32 or large_binary), built from the tensors' buffers (numeric values without a copy;
        tfx_bsl's TensorsToRecordBatchConverter gives the same columns at several times the cost)."""
        columns = list_columns(parts)
        if not self._keep_empty:
            columns = {name: column for name, column in columns.items() if len(column.values) > 0}
        return pa.RecordBatch.from_arrays(list(columns.values()), list(columns))


def list_columns(parts: Dict[str, Tuple[tf.Tensor, ...]]) -> Dict[str, pa.LargeListArray]:
    """``FeatureParser.dense_parts``' output as list-typed Arrow columns by feature name."""
    return {
        name: _list_array(*(tensor.numpy() for tensor in tensors))
        for name, tensors in parts.items()
    }


def _list_array(row_splits: np.ndarray, *values: np.ndarray) -> pa.LargeListArray:
    """A large_list column from row splits and values, or (strings) value lengths and joined bytes."""
    if len(values) == 2:
        lengths, joined = values
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        values = pa.LargeBinaryArray.from_buffers(
            pa.large_binary(), len(lengths), [None, pa.py_buffer(offsets), pa.py_buffer(joined)]
        )
    else:
        values = pa.array(values[0])
    return pa.LargeListArray.from_arrays(pa.array(row_splits), values)
