"""Serialized tf.Examples -> Batches: decoded once, each model of the EvalConfig run once per batch."""

from __future__ import annotations

from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import apache_beam as beam
import numpy as np
import pyarrow as pa
import tensorflow as tf
from apache_beam.utils import shared
from tensorflow_model_analysis.proto import config_pb2
from tfx_bsl.coders.example_coder import ExamplesToRecordBatchDecoder

from glassbox.data.errors import (
    DataError,
    ExamplesError,
    FeatureTypeError,
    PredictionError,
    SignatureError,
)
from glassbox.data.examples import (
    DEFAULT_BATCH_SIZE,
    check_complete,
    compression_type,
    record_dataset,
    record_lists,
)
from glassbox.data.feature_columns import dense_values, holds_bytes
from glassbox.data.models import ServingModel
from glassbox.data.parsing import FeatureParser
from glassbox.data.slicing import sliced_features
from glassbox.data.types import Batch, ModelName
from glassbox.errors import ConfigError

# Batches the tf.data pipeline parses and runs through the models at once (each on its own core).
_PARALLEL_BATCHES = 2
# Examples per Batch the tf.data pipeline yields (see BatchBuilder.file_batches): Python's cost per
# Batch (conversions, slicing, accumulators of 10k histogram buckets, Beam) is then spread over
# more examples than a model batch may hold.
ROWS_PER_BATCH = 16384
# The outputs TFMA picks, in this order, from a multi-output model without a prediction_key
# (metric_util.prepare_labels_and_predictions).
_COMMON_PREDICTION_KEYS = (
    tf.saved_model.CLASSIFY_OUTPUT_SCORES,
    tf.saved_model.REGRESS_OUTPUTS,
    "predictions",
    "logistic",
    "probabilities",
    "logits",
)


def model_name(spec: config_pb2.ModelSpec, eval_config: config_pb2.EvalConfig) -> ModelName:
    """The name TFMA keys a model's results by: '' for a single model, else ModelSpec.name."""
    return spec.name if len(eval_config.model_specs) > 1 else ""


def prediction_output(model: ServingModel, prediction_key: str) -> str:
    """The signature output that holds the predictions, chosen as TFMA chooses it.

    A single output is used whatever prediction_key says (TFMA unwraps single-output dicts
    before looking the key up); with several, prediction_key picks one, else the first of
    TFMA's common keys ('scores', 'outputs', 'predictions', 'logistic', 'probabilities',
    'logits') that the signature has.

    Raises:
      SignatureError: no output can be chosen (the message lists the outputs).
    """
    outputs = model.output_names
    if len(outputs) == 1:
        return outputs[0]
    candidates = [prediction_key] if prediction_key else _COMMON_PREDICTION_KEYS
    chosen = next((key for key in candidates if key in outputs), None)
    if chosen is None:
        wanted = (
            f"prediction_key {prediction_key!r}" if prediction_key else "a ModelSpec.prediction_key"
        )
        raise SignatureError(
            f"signature {model.signature_name!r} of model {model.model_dir} has "
            f"outputs {outputs}; set {wanted} naming one of them"
        )
    return chosen


class _ModelRun:
    """One ModelSpec's model and the columns its labels, predictions and weights come from."""

    def __init__(self, spec: config_pb2.ModelSpec, name: ModelName, model_dir: str):
        if not spec.label_key:
            raise ConfigError(f"ModelSpec.label_key of model {name!r} is empty")
        self.spec = spec
        self.describe = f"model {name!r} ({model_dir})"
        self.model = ServingModel(model_dir, spec.signature_name)
        self.output = prediction_output(self.model, spec.prediction_key)

    def predictions(self, outputs: Dict[str, np.ndarray], num_rows: int) -> np.ndarray:
        """float64 predictions of shape (n,) or (n, k), finite, from the signature's outputs for a
        batch of num_rows examples; [n, 1] squeezed to (n,) as TFMA flattens single-value
        predictions."""
        values = outputs[self.output].astype(np.float64)
        if values.ndim == 2 and values.shape[1] == 1:
            values = values[:, 0]
        if values.ndim not in (1, 2) or values.shape[0] != num_rows:
            raise PredictionError(
                f"output {self.output!r} of {self.describe} has shape {values.shape} "
                f"for {num_rows} examples; expected ({num_rows},) or ({num_rows}, classes)"
            )
        bad = ~np.isfinite(values)
        rows = np.flatnonzero(bad if values.ndim == 1 else bad.any(axis=1))
        if rows.size:
            raise PredictionError(
                f"output {self.output!r} of {self.describe} is NaN or infinite for "
                f"{rows.size} of {values.shape[0]} examples (first: row {rows[0]})"
            )
        return values

    def labels(self, features: pa.RecordBatch, prediction_width: int) -> np.ndarray:
        """float64 labels: (n,) with one value per example, or (n, k) one-/multi-hot for k classes."""
        key = self.spec.label_key
        use = f"label_key of {self.describe}"
        values = self._numbers(features, key, use)
        if values.shape[1] not in (1, prediction_width):
            raise FeatureTypeError(
                f"feature {key!r} ({use}) holds {values.shape[1]} values per example; expected 1"
                + (f" or {prediction_width} (one per class)" if prediction_width > 1 else "")
            )
        return values[:, 0] if values.shape[1] == 1 else values

    def example_weights(self, features: pa.RecordBatch) -> np.ndarray:
        """float64 weights, one per example: example_weight_key's values, else ones."""
        key = self.spec.example_weight_key
        if not key:
            return np.ones(features.num_rows)
        return self._numbers(features, key, f"example_weight_key of {self.describe}", width=1)[:, 0]

    @staticmethod
    def _numbers(
        features: pa.RecordBatch, key: str, use: str, width: Optional[int] = None
    ) -> np.ndarray:
        values = dense_values(features, key, use, width)
        if holds_bytes(features.column(key)):
            raise FeatureTypeError(f"feature {key!r} ({use}) holds bytes; numbers are needed")
        return values.astype(np.float64)


class BatchBuilder:
    """Builds Batches for every model of an EvalConfig from serialized tf.Examples.

    Two ways, the same Batches:
    * ``build``: a list of serialized examples, decoded with tfx_bsl's C++ decoder (every feature,
      types inferred per batch or from the Schema), each model called once. Its errors name the
      feature, example or output at fault.
    * ``file_batches``: whole TFRecord files, read, parsed and run through the models that take
      serialized examples by one tf.data pipeline (TF's threads, ahead of Python), with
      ``tf.io.parse_example`` of only the features the evaluation reads (``parsing``). Their types
      come from the Schema or from the first file's first batch, built with ``build``. A batch
      this fails on, and the rest of its file, are built with ``build``, which reports the problem.

    Batch.features holds the features the evaluation reads: labels, example weights, sliced
    features and the inputs of named-input models. A feature nothing reads is not checked.

    Loading the models takes seconds and they cannot be pickled: in Beam use ``PredictDoFn``.

    Args:
      eval_config: the ModelSpecs (label_key, prediction_key, example_weight_key,
        signature_name) of the candidate and, optionally, the baseline, and the slicing specs.
      model_dirs: SavedModel directory per model name, names as ``model_name`` gives them.
      schema: optional serialized TFMD Schema; with it the features it declares are decoded with
        their declared types (else types are inferred).

    Raises:
      ConfigError: a model has no directory in model_dirs, or a ModelSpec has no label_key.
      ModelLoadError, SignatureError: as ServingModel and ``prediction_output`` raise them.
    """

    def __init__(
        self,
        eval_config: config_pb2.EvalConfig,
        model_dirs: Dict[ModelName, str],
        schema: Optional[bytes] = None,
    ):
        self._runs: Dict[ModelName, _ModelRun] = {}
        for spec in eval_config.model_specs:
            name = model_name(spec, eval_config)
            if name not in model_dirs:
                raise ConfigError(
                    f"no model directory for model {name!r}; "
                    f"directories are given for {sorted(model_dirs)}"
                )
            self._runs[name] = _ModelRun(spec, name, model_dirs[name])
        self._decoder = (
            ExamplesToRecordBatchDecoder(schema) if schema else ExamplesToRecordBatchDecoder()
        )
        self._read_features = set(sliced_features(eval_config.slicing_specs))
        for run in self._runs.values():
            self._read_features |= {
                run.spec.label_key,
                run.spec.example_weight_key,
                *run.model.input_features,
            }
        self._read_features.discard("")
        self._parser = FeatureParser(self._read_features, schema)
        self._types_known = schema is not None

    def build(self, serialized: Sequence[bytes]) -> Batch:
        """The Batch of these serialized examples.

        Raises:
          ExamplesError: a record is not a tf.Example, or a feature's list type differs between
            examples (tfx_bsl's message names it).
          MissingFeatureError / FeatureTypeError: a label, weight or model input is absent from
            some examples, multi-valued where one value is due, or not numeric.
          PredictionError: a model fails on the batch or predicts NaN/inf.
        """
        try:
            features = self._decoder.DecodeBatch(list(serialized))
        except RuntimeError as e:
            raise ExamplesError(
                f"cannot decode a batch of {len(serialized)} tf.Examples: {e}"
            ) from e
        self._parser.learn(features)
        self._types_known = True
        outputs = {
            name: run.model.predict(serialized, features) for name, run in self._runs.items()
        }
        batch = self._batch(features, outputs, len(serialized))
        batch.features = features.select(
            sorted(self._read_features.intersection(features.schema.names))
        )
        return batch

    def file_batches(
        self, paths: Sequence[str], batch_size: int, rows_per_batch: int = ROWS_PER_BATCH
    ) -> Iterator[Batch]:
        """The Batches of TFRecord files, file after file. The models are called on batch_size
        examples at a time; the tf.data pipeline's Batches hold as many such batches of one file
        as fit in rows_per_batch examples (at least one), so that Python's work per batch is
        spread over many examples; ``build``'s hold one.

        One tf.data pipeline reads all the files (it opens, reads and predicts the next file
        while Python works on the last Batches of the previous one). From a batch it fails on,
        each remaining file is read on its own (``_one_file_batches``), which reports the problem.

        Raises:
          ExamplesError: a file is missing, truncated or corrupt, and as ``build`` raises.
        """
        paths = list(paths)
        if not paths:
            return
        if not self._types_known:
            self._learn_types(next(record_lists(paths[0], batch_size), []))
        model_batches = max(1, rows_per_batch // batch_size)
        read = [(0, 0, 0)] * len(paths)  # per file: model batches built, records, record bytes
        complete = 0  # the files before this one are read whole
        try:
            for index, batch, batch_bytes, num_batches in self._parsed_batches(
                paths, batch_size, model_batches
            ):
                for earlier in range(complete, index):
                    check_complete(paths[earlier], *read[earlier][1:])
                complete = index
                yield batch
                built, num_records, record_bytes = read[index]
                read[index] = (
                    built + num_batches,
                    num_records + batch.num_rows,
                    record_bytes + batch_bytes,
                )
            remaining = []
            for path, (_, num_records, record_bytes) in zip(paths[complete:], read[complete:]):
                check_complete(path, num_records, record_bytes)
        except (tf.errors.OpError, DataError):
            remaining = range(complete, len(paths))  # read again below, file by file
        for index in remaining:
            yield from self._one_file_batches(paths[index], batch_size, model_batches, *read[index])

    def _one_file_batches(
        self,
        path: str,
        batch_size: int,
        model_batches: int,
        built: int,
        num_records: int,
        record_bytes: int,
    ) -> Iterator[Batch]:
        """``file_batches`` of one file after its first ``built`` model batches (of num_records
        records, record_bytes bytes): with tf.data, and from a batch tf.data fails on, with
        ``build``, whose errors name the problem."""
        while True:
            try:
                for _, batch, batch_bytes, num_batches in self._parsed_batches(
                    [path], batch_size, model_batches, skip=built
                ):
                    yield batch
                    built, num_records, record_bytes = (
                        built + num_batches,
                        num_records + batch.num_rows,
                        record_bytes + batch_bytes,
                    )
                break
            except (tf.errors.OpError, DataError):
                pass  # the batch is built again below, by tfx_bsl, whose errors name the problem
            typed = self._parser.typed_features
            for serialized in record_lists(path, batch_size, skip=built):
                yield self.build(serialized)
                built += 1
                num_records, record_bytes = (
                    num_records + len(serialized),
                    record_bytes + sum(map(len, serialized)),
                )
                if self._parser.typed_features != typed:
                    break  # a feature's type was learnt (first seen): back to tf.data
            else:
                break
        check_complete(path, num_records, record_bytes)

    def _learn_types(self, serialized: List[bytes]) -> None:
        """Learns the read features' types from a batch decoded by tfx_bsl."""
        try:
            self._parser.learn(self._decoder.DecodeBatch(serialized))
        except RuntimeError:
            pass  # the tf.data pipeline fails on this batch too, and ``build`` reports it
        self._types_known = True

    def _parsed_batches(
        self, paths: List[str], batch_size: int, model_batches: int, skip: int = 0
    ) -> Iterator[Tuple[int, Batch, int, int]]:
        """file_batches' tf.data pipeline, from the skip-th model batch of the first file on:
        Batches of up to model_batches model batches of one file, each with its file's index, its
        records' bytes and its number of model batches."""
        serialized_runs = {
            name: run for name, run in self._runs.items() if run.model.takes_serialized_examples
        }

        @tf.autograph.experimental.do_not_convert  # plain TF calls: AutoGraph would only add ~0.2 s
        def parse_and_predict(serialized):
            outputs = {
                name: run.model.call_serialized(serialized)[run.output]
                for name, run in serialized_runs.items()
            }
            record_bytes = tf.reduce_sum(tf.cast(tf.strings.length(serialized), tf.int64))
            return self._parser.parse(serialized), outputs, tf.size(serialized), record_bytes

        @tf.autograph.experimental.do_not_convert
        def concatenate(
            parsed, outputs, num_rows, record_bytes
        ):  # ragged_batch's: one more dimension
            return (
                self._parser.dense_parts(
                    {name: values.merge_dims(0, 1) for name, values in parsed.items()}
                ),
                {name: values.merge_dims(0, 1) for name, values in outputs.items()},
                tf.reduce_sum(num_rows),
                tf.reduce_sum(record_bytes),
                tf.size(num_rows),
            )

        path_tensor = tf.constant(paths)
        compressions = tf.constant([compression_type(path) for path in paths])

        @tf.autograph.experimental.do_not_convert
        def file_pipeline(index):
            return (
                record_dataset(path_tensor[index], batch_size, compressions[index])
                .skip(tf.where(index == 0, tf.constant(skip, tf.int64), 0))
                .map(parse_and_predict, num_parallel_calls=_PARALLEL_BATCHES, deterministic=True)
                .ragged_batch(model_batches)
                .map(concatenate)
                .map(lambda *batch: (index, *batch))
            )

        # Files one after another (cycle_length 1); tf.data's parallel interleave opens the next
        # file ahead and buffers its first Batches while Python works on this file's last ones.
        pipeline = (
            tf.data.Dataset.range(len(paths))
            .interleave(file_pipeline, cycle_length=1, num_parallel_calls=1, deterministic=True)
            .prefetch(1)
        )
        for index, parsed, outputs, num_rows, record_bytes, num_batches in pipeline:
            features = self._parser.record_batch(parsed)
            outputs = {
                name: {self._runs[name].output: values.numpy()} for name, values in outputs.items()
            }
            for name, run in self._runs.items():
                if name not in outputs:
                    outputs[name] = run.model.predict_in_batches(features, batch_size)
            yield (
                int(index),
                self._batch(features, outputs, int(num_rows)),
                int(record_bytes),
                int(num_batches),
            )

    def _batch(
        self,
        features: pa.RecordBatch,
        outputs: Dict[ModelName, Dict[str, np.ndarray]],
        num_rows: int,
    ) -> Batch:
        batch = Batch(features=features, labels={}, predictions={}, example_weights={})
        for name, run in self._runs.items():
            predictions = run.predictions(outputs[name], num_rows)
            batch.predictions[name] = predictions
            batch.labels[name] = run.labels(
                features, predictions.shape[1] if predictions.ndim == 2 else 1
            )
            batch.example_weights[name] = run.example_weights(features)
        return batch


class PredictDoFn(beam.DoFn):
    """Beam DoFn: TFRecord files' paths (a list) -> their Batches (``BatchBuilder.file_batches``).

    The models are loaded in ``setup()`` and shared by all DoFn instances of a worker process
    (``apache_beam.utils.shared``), so a multi-threaded worker holds each model once.
    """

    def __init__(
        self,
        eval_config: config_pb2.EvalConfig,
        model_dirs: Dict[ModelName, str],
        schema: Optional[bytes] = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ):
        if batch_size < 1:
            raise ConfigError(f"batch_size must be positive, got {batch_size}")
        self._eval_config = eval_config
        self._model_dirs = dict(model_dirs)
        self._schema = schema
        self._batch_size = batch_size
        self._shared_builder = shared.Shared()
        self._builder = None

    def setup(self):
        self._builder = self._shared_builder.acquire(
            lambda: BatchBuilder(self._eval_config, self._model_dirs, self._schema)
        )

    def process(self, paths: Sequence[str]) -> Iterator[Batch]:
        yield from self._builder.file_batches(paths, self._batch_size)
