"""The fast decoder: TFRecord files -> the features an evaluation reads and the predictions of the
models that take serialized tf.Examples, by one tf.data pipeline running ahead of Python.

Each model batch is parsed with ``tf.io.parse_example`` of only the read features
(``FeatureParser``) and run through those models inside a tf.data map, on TF's threads (two model
batches at once, each on its own core); consecutive model batches of a file are then gathered into
a ``Chunk``, which Python turns into Arrow columns in one step. The parser's types come from the
Schema or were learnt from batches tfx_bsl decoded, so a batch holding a feature of another type
(or a record that is not a tf.Example) fails the iteration with a TF error: the caller then builds
that batch with tfx_bsl (``batches.BatchBuilder``), which names the problem.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, Iterator, Sequence

import pyarrow as pa
import tensorflow as tf

from glassbox.data.model_runs import ModelRun, Outputs
from glassbox.data.parsing import FeatureParser
from glassbox.data.record_batches import FileProgress, serialized_batches
from glassbox.data.transformed import record_batch_of_parts
from glassbox.data.types import ModelName

# Model batches the tf.data pipeline parses and runs through the models at once.
_PARALLEL_BATCHES = 2


@dataclasses.dataclass
class Chunk:
    """Consecutive model batches of one file, parsed and predicted.

    Attributes:
      file: the file they come from.
      features: the read features, as tfx_bsl's list-typed Arrow columns.
      outputs: per model that takes serialized examples, its prediction output's values.
      transformed: per model with preprocessing signatures, the transformed features read.
      num_rows: the chunk's examples.
      record_bytes: the bytes of its serialized records.
      model_batches: the model batches it holds.
    """

    file: FileProgress
    features: pa.RecordBatch
    outputs: Dict[ModelName, Outputs]
    transformed: Dict[ModelName, pa.RecordBatch]
    num_rows: int
    record_bytes: int
    model_batches: int


class FastDecoder:
    """Parses the read features and runs the serialized-example models over TFRecord files.

    Args:
      parser: the read features and their types.
      runs: the models by name; those whose signature takes serialized tf.Examples are called in
        the pipeline (the others take the parsed features, later, in Python), and so are the
        preprocessing signatures of every model (``ModelRun.transform_serialized``).
    """

    def __init__(self, parser: FeatureParser, runs: Dict[ModelName, ModelRun]):
        self._parser = parser
        self._runs = {
            name: run for name, run in runs.items() if run.model.takes_serialized_examples
        }
        self._transforming = {name: run for name, run in runs.items() if run.transformed}

    def chunks(
        self, files: Sequence[FileProgress], batch_size: int, chunk_batches: int
    ) -> Iterator[Chunk]:
        """The Chunks of the files, file after file (the first from after its counted model
        batches), each of up to chunk_batches model batches of batch_size records.

        Raises (while iterating):
          tf.errors.OpError: a file is missing or corrupt, a record is not a tf.Example, or a
            feature has another type than the parser's.
        """
        pipeline = serialized_batches(
            files,
            batch_size,
            lambda records: (
                records.map(
                    self._parse_and_predict,
                    num_parallel_calls=_PARALLEL_BATCHES,
                    deterministic=True,
                )
                .ragged_batch(chunk_batches)
                .map(self._concatenate)
            ),
        )
        for index, parsed, outputs, transformed, num_rows, record_bytes, model_batches in pipeline:
            yield Chunk(
                file=files[int(index)],
                features=self._parser.record_batch(parsed),
                outputs={
                    name: {self._runs[name].output: values.numpy()}
                    for name, values in outputs.items()
                },
                transformed={
                    name: record_batch_of_parts(parts) for name, parts in transformed.items()
                },
                num_rows=int(num_rows),
                record_bytes=int(record_bytes),
                model_batches=int(model_batches),
            )

    @tf.autograph.experimental.do_not_convert  # plain TF calls: AutoGraph would only add ~0.2 s
    def _parse_and_predict(self, serialized):
        outputs = {
            name: run.model.call_serialized(serialized)[run.output]
            for name, run in self._runs.items()
        }
        transformed = {
            name: run.transform_serialized(serialized) for name, run in self._transforming.items()
        }
        record_bytes = tf.reduce_sum(tf.cast(tf.strings.length(serialized), tf.int64))
        parsed = self._parser.parse(serialized)
        return parsed, outputs, transformed, tf.size(serialized), record_bytes

    @tf.autograph.experimental.do_not_convert
    def _concatenate(self, parsed, outputs, transformed, num_rows, record_bytes):
        """A ragged batch of model batches (one more dimension) as one batch of plain tensors."""
        return (
            self._parser.dense_parts(_merge_batches(parsed)),
            {name: values.merge_dims(0, 1) for name, values in outputs.items()},
            {
                name: self._parser.dense_parts(_merge_batches(columns))
                for name, columns in transformed.items()
            },
            tf.reduce_sum(num_rows),
            tf.reduce_sum(record_bytes),
            tf.size(num_rows),
        )


def _merge_batches(columns: Dict[str, tf.RaggedTensor]) -> Dict[str, tf.RaggedTensor]:
    """Ragged columns of model batches of rows as columns of rows."""
    return {name: values.merge_dims(0, 1) for name, values in columns.items()}
