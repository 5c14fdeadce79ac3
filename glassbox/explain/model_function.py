"""The model-function contract of every explanation method, and its implementation over a SavedModel.

A model function maps raw feature columns (``{name: array of shape (n,)}``, float, int or
bytes/str values) to one float64 score per row; it must not keep the columns after it returns
(the masking engine refills their memory for its next call). :class:`SavedModelFunction` calls
a SavedModel signature through ``ServingModel`` in large batches, whether the signature takes
named feature tensors or serialized tf.Examples (then the columns are encoded by tfx_bsl's C++
encoder).
"""

from __future__ import annotations

from typing import Callable, Mapping, Optional

import numpy as np
import pyarrow as pa
from tfx_bsl.coders.example_coder import RecordBatchToExamplesEncoder

from glassbox.data.model_runs import prediction_output
from glassbox.data.models import ServingModel, resolve_model_dir
from glassbox.explain.errors import ExplanationError

Columns = Mapping[str, np.ndarray]
ModelFunction = Callable[[Columns], np.ndarray]

# Rows per signature call: large enough that per-call overhead is negligible (the masking engine
# hands over hundreds of thousands of rows at once), small enough to bound the model's memory.
DEFAULT_BATCH_SIZE = 65536


def num_rows(columns: Columns) -> int:
    """The common length of columns, all of shape (n,).

    Raises:
      ExplanationError: no columns, a column that is not 1-D, or columns of different lengths.
    """
    if not columns:
        raise ExplanationError("no feature columns given")
    lengths = {}
    for name, values in columns.items():
        if np.ndim(values) != 1:
            raise ExplanationError(
                f"feature column {name!r} has shape {np.shape(values)}; "
                "explanations take one value per row, shape (n,)"
            )
        lengths[name] = len(values)
    if len(set(lengths.values())) > 1:
        raise ExplanationError(f"feature columns have different lengths: {lengths}")
    return next(iter(lengths.values()))


def to_record_batch(columns: Columns) -> pa.RecordBatch:
    """columns as the single-value list columns tf.Examples decode to (str values as bytes)."""
    n = num_rows(columns)
    offsets = pa.array(np.arange(n + 1, dtype=np.int32))
    arrays = {}
    for name, values in columns.items():
        values = np.asarray(values)
        if values.dtype.kind == "U":
            values = np.char.encode(values, "utf-8")
        if values.dtype.kind in "SO":
            flat = pa.array(values, type=pa.binary())
        elif values.dtype.kind in "iub":
            flat = pa.array(values.astype(np.int64, copy=False))
        elif values.dtype.kind == "f":
            flat = pa.array(values.astype(np.float32, copy=False))
        else:
            raise ExplanationError(
                f"feature column {name!r} holds {values.dtype} values; "
                "expected floats, integers, bytes or strings"
            )
        arrays[name] = pa.ListArray.from_arrays(offsets, flat)
    return pa.RecordBatch.from_pydict(arrays)


def signature_outputs(
    model: ServingModel,
    output_key: str,
    columns: Columns,
    encoder: Optional[RecordBatchToExamplesEncoder],
) -> np.ndarray:
    """float64 (n, k) of a signature's output for columns, in one call: encoded as tf.Examples
    by encoder for a signature parsing them, else fed by name.

    Raises:
      ExplanationError: malformed columns, a non-numeric output.
      MissingFeatureError / FeatureTypeError / PredictionError: see ServingModel.predict.
    """
    batch = to_record_batch(columns)
    serialized = encoder.encode(batch) if encoder else []
    output = model.predict(serialized, batch)[output_key]
    if output.dtype.kind not in "fiub":
        raise ExplanationError(
            f"output {output_key!r} of model {model.model_dir} holds "
            f"{output.dtype} values; explanations need a numeric score"
        )
    return output.reshape(len(output), -1).astype(np.float64)


class SavedModelFunction:
    """A SavedModel signature's score per row, as a model function.

    Attributes:
      model: the ServingModel called.
      output_key: the signature output scored.
      class_index: the column of a multi-column output scored (None for a one-column output).
      features: the raw features the signature takes by name; None when it parses serialized
        tf.Examples (it then takes whatever columns it is given).

    Raises:
      ModelLoadError / SignatureError: see ServingModel, resolve_model_dir and prediction_output.
      ExplanationError: a signature input that is not one value per row (e.g. a token sequence
        of shape [None, 20]): no attribution method can mask it as a raw feature.
    """

    def __init__(
        self,
        model_dir: str,
        signature_name: str = "",
        output_key: str = "",
        class_index: Optional[int] = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ):
        self.model = ServingModel(resolve_model_dir(model_dir), signature_name)
        self.output_key = prediction_output(self.model, output_key)
        self.class_index = class_index
        self._batch_size = batch_size
        self._encoder = (
            RecordBatchToExamplesEncoder() if self.model.takes_serialized_examples else None
        )
        if self.model.takes_serialized_examples:
            self.features = None
            return
        for name, spec in self.model.input_specs.items():
            if spec.shape[1:].num_elements() != 1:
                raise ExplanationError(
                    f"input {name!r} of signature {self.model.signature_name!r} in model "
                    f"{self.model.model_dir} has shape {spec.shape}: explanations mask one value "
                    "per feature and row, so every input must have shape [None] or [None, 1]"
                )
        # By name: a loaded signature's input order follows a protobuf map's, which varies between
        # processes, and attributions must come out in the same order wherever they are computed.
        self.features = tuple(sorted(self.model.input_specs))

    def __call__(self, columns: Columns) -> np.ndarray:
        """float64 scores of shape (n,), from one signature call per batch_size rows.

        Raises:
          ExplanationError: malformed columns; an output that is not one number per row (several
            columns and no class_index, or class_index out of range).
          MissingFeatureError / FeatureTypeError / PredictionError: see ServingModel.predict.
        """
        return self.in_batches(columns, self._scores)

    def in_batches(self, columns: Columns, compute: Callable[[Columns], np.ndarray]) -> np.ndarray:
        """compute's rows of columns, concatenated from one call per batch_size rows (e.g.
        ``function.in_batches(columns, function.outputs)`` for every column of the output)."""
        n = num_rows(columns)
        return np.concatenate(
            [
                compute(
                    {
                        name: values[start : start + self._batch_size]
                        for name, values in columns.items()
                    }
                )
                for start in range(0, n, self._batch_size)
            ]
            or [np.zeros(0)]
        )

    def outputs(self, columns: Columns) -> np.ndarray:
        """float64 (n, columns) of the scored output, whatever its width, from one signature call
        (see signature_outputs)."""
        return signature_outputs(self.model, self.output_key, columns, self._encoder)

    def _scores(self, columns: Columns) -> np.ndarray:
        output = self.outputs(columns)
        describe = f"output {self.output_key!r} of model {self.model.model_dir} has {output.shape[1]} columns"
        if self.class_index is None:
            if output.shape[1] != 1:
                raise ExplanationError(f"{describe}; set a class_index to explain one of them")
            return output[:, 0]
        if not 0 <= self.class_index < output.shape[1]:
            raise ExplanationError(f"{describe}; class_index {self.class_index} is out of range")
        return output[:, self.class_index]
