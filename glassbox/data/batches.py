"""Serialized tf.Examples -> Batches: decoded once, each model of the EvalConfig run once per batch.

Whole files go through the fast decoder (``fast_decoder``: tf.data parses the read features and
runs the models); a model batch it fails on goes to the fallback, tfx_bsl's decoding (``build``),
which raises the error naming the feature, example or output at fault, or, when the batch is
fine but holds a feature of a type the fast decoder did not expect, builds it.
"""

from __future__ import annotations

from typing import Dict, Generator, Iterator, Optional, Sequence

import apache_beam as beam
import tensorflow as tf
from apache_beam.utils import shared
from tensorflow_model_analysis.proto import config_pb2

from glassbox.data.errors import DataError, ExamplesError, in_file
from glassbox.data.example_decoder import ExampleDecoder
from glassbox.data.examples import DEFAULT_BATCH_SIZE
from glassbox.data.fast_decoder import FastDecoder
from glassbox.data.model_runs import ModelRuns
from glassbox.data.parsing import FeatureParser
from glassbox.data.record_batches import FileProgress
from glassbox.data.types import Batch, ModelName
from glassbox.errors import ConfigError

# Examples per Batch of the fast decoder (see BatchBuilder.file_batches): Python's cost per Batch
# (conversions, slicing, accumulators of 10k histogram buckets, Beam) is then spread over more
# examples than a model batch may hold.
ROWS_PER_BATCH = 16384


# PredictDoFn's output of the records read, which the evaluation reconciles with the examples it
# accumulated (glassbox.evaluation.reconciliation).
RECORDS_READ = "records_read"


class BatchBuilder:
    """Builds Batches for every model of an EvalConfig from serialized tf.Examples.

    Two ways, the same Batches:
    * ``build``: a list of serialized examples, decoded with tfx_bsl's C++ decoder (every feature,
      types inferred per batch or from the Schema), each model called once. Its errors name the
      feature, example or output at fault.
    * ``file_batches``: whole TFRecord files, through the fast decoder, which parses only the
      features the evaluation reads. Their types come from the Schema or from the first file's
      first batch, built with ``build``. A model batch the fast decoder fails on is built with
      ``build``, which reports the problem.

    Batch.features holds the features the evaluation reads: labels, example weights, sliced
    features and the inputs of named-input models, transformed ones (computed by the models'
    preprocessing signatures, ``transformed``) in place of raw ones of the same name. A feature
    nothing reads is not checked.

    Loading the models takes seconds and they cannot be pickled: in Beam use ``PredictDoFn``.

    Args:
      eval_config: the ModelSpecs (label_key, prediction_key, example_weight_key,
        signature_name) of the candidate and, optionally, the baseline, and the slicing specs.
      model_dirs: SavedModel directory per model name, names as ``model_runs.model_name`` gives
        them.
      schema: optional serialized TFMD Schema; with it the features it declares are decoded with
        their declared types (else types are inferred).
      extra_features: features read besides the evaluation's (e.g. those drift sketches),
        raw; one absent from a batch is left out of it.

    Raises:
      ConfigError: a model has no directory in model_dirs, or a ModelSpec has no label_key.
      ModelLoadError, SignatureError: as ServingModel and ``prediction_output`` raise them.
    """

    def __init__(
        self,
        eval_config: config_pb2.EvalConfig,
        model_dirs: Dict[ModelName, str],
        schema: Optional[bytes] = None,
        extra_features: Sequence[str] = (),
    ):
        self._runs = ModelRuns(eval_config, model_dirs)
        self._decoder = ExampleDecoder(schema)
        self._read_features = self._runs.read_features | set(extra_features)
        self._parser = FeatureParser(self._read_features, schema)
        self._fast = FastDecoder(self._parser, self._runs.runs)
        self._types_known = schema is not None

    def build(self, serialized: Sequence[bytes]) -> Batch:
        """The Batch of these serialized examples.

        Raises:
          ExamplesError: a record is not a tf.Example, or a feature's list type differs between
            examples (tfx_bsl's message names it).
          MissingFeatureError / FeatureTypeError: a label, weight or model input is absent from
            some examples, multi-valued where one value is due, or not numeric.
          PredictionError: a model or its preprocessing fails on the batch, or it predicts NaN/inf.
        """
        features = self._decoder.decode(serialized)
        self._parser.learn(features)
        self._types_known = True
        outputs = self._runs.predict(serialized, features)
        transformed = self._runs.transform(serialized)
        batch = self._runs.batch(features, outputs, len(serialized), len(serialized), transformed)
        batch.features = batch.features.select(
            sorted(self._read_features.intersection(batch.features.schema.names))
        )
        return batch

    def file_batches(
        self, paths: Sequence[str], batch_size: int, rows_per_batch: int = ROWS_PER_BATCH
    ) -> Generator[Batch, None, int]:
        """The Batches of TFRecord files, file after file. The models are called on batch_size
        examples at a time; the fast decoder's Batches hold as many such model batches of one file
        as fit in rows_per_batch examples (at least one), so that Python's work per batch is
        spread over many examples; ``build``'s hold one.

        One tf.data pipeline reads all the files (it opens, reads and predicts the next file
        while Python works on the last Batches of the previous one). From a model batch it fails
        on, the fallback (``_fallback``) takes that file; then a new pipeline goes on.

        Returns (when exhausted) the number of records read, every file read whole.

        Raises:
          ExamplesError: a file is missing, truncated or corrupt, and as ``build`` raises.
        """
        files = [FileProgress(path) for path in paths]
        if not files:
            return 0
        if not self._types_known:
            self._learn_types(next(files[0].rest(batch_size), []))
        chunk_batches = max(1, rows_per_batch // batch_size)
        current = 0  # the files before it are read whole and checked; those after it not read
        while current < len(files):
            try:
                for chunk in self._fast.chunks(files[current:], batch_size, chunk_batches):
                    while files[current] is not chunk.file:
                        files[current].check_complete()
                        current += 1
                    batch = self._runs.batch(
                        chunk.features,
                        chunk.outputs,
                        chunk.num_rows,
                        batch_size,
                        chunk.transformed,
                    )
                    batch.source = (chunk.file.path, chunk.file.records)
                    yield batch
                    chunk.file.add(chunk.model_batches, chunk.num_rows, chunk.record_bytes)
                for file in files[current:]:
                    file.check_complete()
                return sum(file.records for file in files)
            except (tf.errors.OpError, DataError):
                pass  # the fallback takes the file from its first model batch not counted
            if (yield from self._fallback(files[current], batch_size)):
                current += 1
        return sum(file.records for file in files)

    def _fallback(self, file: FileProgress, batch_size: int) -> Generator[Batch, None, bool]:
        """The Batches of file's model batches not counted yet, built with ``build`` (whose
        errors name the problem; here also the file and record) until a feature's type is learnt
        (then the fast decoder can parse it) or the file ends. Returns whether it ended (then it
        is checked whole)."""
        typed = self._parser.typed_features
        for serialized in file.rest(batch_size):
            try:
                batch = self.build(serialized)
            except DataError as e:
                raise in_file(e, file.path, file.records) from e
            batch.source = (file.path, file.records)
            yield batch
            file.add_records(serialized)
            if self._parser.typed_features != typed:
                return False
        file.check_complete()
        return True

    def _learn_types(self, serialized: Sequence[bytes]) -> None:
        """Learns the read features' types from a batch decoded by tfx_bsl."""
        try:
            self._parser.learn(self._decoder.decode(serialized))
        except ExamplesError:
            pass  # the fast decoder fails on this batch too, and ``build`` reports it
        self._types_known = True


class PredictDoFn(beam.DoFn):
    """Beam DoFn: TFRecord files' paths (a list) -> their Batches (``BatchBuilder.file_batches``),
    and on the output tagged RECORDS_READ the number of records read from them.

    The models are loaded in ``setup()`` and shared by all DoFn instances of a worker process
    (``apache_beam.utils.shared``), so a multi-threaded worker holds each model once.
    """

    def __init__(
        self,
        eval_config: config_pb2.EvalConfig,
        model_dirs: Dict[ModelName, str],
        schema: Optional[bytes] = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        extra_features: Sequence[str] = (),
    ):
        if batch_size < 1:
            raise ConfigError(f"batch_size must be positive, got {batch_size}")
        self._eval_config = eval_config
        self._model_dirs = dict(model_dirs)
        self._schema = schema
        self._batch_size = batch_size
        self._extra_features = list(extra_features)
        self._shared_builder = shared.Shared()
        self._builder = None

    def setup(self):
        self._builder = self._shared_builder.acquire(
            lambda: BatchBuilder(
                self._eval_config, self._model_dirs, self._schema, self._extra_features
            )
        )

    def process(self, paths: Sequence[str]) -> Iterator[Batch]:
        records = yield from self._builder.file_batches(paths, self._batch_size)
        yield beam.pvalue.TaggedOutput(RECORDS_READ, records)
