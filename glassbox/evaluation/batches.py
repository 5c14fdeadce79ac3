"""Serialized tf.Example batches -> Batches: decoded once, each model of the EvalConfig run once."""

from __future__ import annotations

from typing import Dict, Iterator, List, Optional, Sequence

import apache_beam as beam
import numpy as np
import pyarrow as pa
import tensorflow as tf
from apache_beam.utils import shared
from tensorflow_model_analysis.proto import config_pb2
from tfx_bsl.coders.example_coder import ExamplesToRecordBatchDecoder

from glassbox.evaluation.errors import (ConfigError, ExamplesError, FeatureTypeError, PredictionError,
                                        SignatureError)
from glassbox.evaluation.feature_columns import dense_values, holds_bytes
from glassbox.evaluation.models import ServingModel
from glassbox.evaluation.types import Batch, ModelName

# The outputs TFMA picks, in this order, from a multi-output model without a prediction_key
# (metric_util.prepare_labels_and_predictions).
_COMMON_PREDICTION_KEYS = (tf.saved_model.CLASSIFY_OUTPUT_SCORES, tf.saved_model.REGRESS_OUTPUTS,
                           "predictions", "logistic", "probabilities", "logits")


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
        wanted = f"prediction_key {prediction_key!r}" if prediction_key else "a ModelSpec.prediction_key"
        raise SignatureError(f"signature {model.signature_name!r} of model {model.model_dir} has "
                             f"outputs {outputs}; set {wanted} naming one of them")
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

    def predictions(self, serialized: Sequence[bytes], features: pa.RecordBatch) -> np.ndarray:
        """float64 predictions of shape (n,) or (n, k), finite; [n, 1] squeezed to (n,) as TFMA
        flattens single-value predictions."""
        values = self.model.predict(serialized, features)[self.output].astype(np.float64)
        if values.ndim == 2 and values.shape[1] == 1:
            values = values[:, 0]
        if values.ndim not in (1, 2) or values.shape[0] != features.num_rows:
            raise PredictionError(f"output {self.output!r} of {self.describe} has shape {values.shape} "
                                  f"for {features.num_rows} examples; expected ({features.num_rows},) "
                                  f"or ({features.num_rows}, classes)")
        bad = ~np.isfinite(values)
        rows = np.flatnonzero(bad if values.ndim == 1 else bad.any(axis=1))
        if rows.size:
            raise PredictionError(f"output {self.output!r} of {self.describe} is NaN or infinite for "
                                  f"{rows.size} of {values.shape[0]} examples (first: row {rows[0]})")
        return values

    def labels(self, features: pa.RecordBatch, prediction_width: int) -> np.ndarray:
        """float64 labels: (n,) with one value per example, or (n, k) one-/multi-hot for k classes."""
        key = self.spec.label_key
        use = f"label_key of {self.describe}"
        values = self._numbers(features, key, use)
        if values.shape[1] not in (1, prediction_width):
            raise FeatureTypeError(
                f"feature {key!r} ({use}) holds {values.shape[1]} values per example; expected 1"
                + (f" or {prediction_width} (one per class)" if prediction_width > 1 else ""))
        return values[:, 0] if values.shape[1] == 1 else values

    def example_weights(self, features: pa.RecordBatch) -> np.ndarray:
        """float64 weights, one per example: example_weight_key's values, else ones."""
        key = self.spec.example_weight_key
        if not key:
            return np.ones(features.num_rows)
        return self._numbers(features, key, f"example_weight_key of {self.describe}", width=1)[:, 0]

    @staticmethod
    def _numbers(features: pa.RecordBatch, key: str, use: str, width: Optional[int] = None) -> np.ndarray:
        values = dense_values(features, key, use, width)
        if holds_bytes(features.column(key)):
            raise FeatureTypeError(f"feature {key!r} ({use}) holds bytes; numbers are needed")
        return values.astype(np.float64)


class BatchBuilder:
    """Builds Batches for every model of an EvalConfig from batches of serialized tf.Examples.

    Each batch is decoded once with tfx_bsl's C++ decoder and each model is called once on it.
    Loading the models takes seconds and they cannot be pickled: in Beam use ``PredictDoFn``.

    Args:
      eval_config: the ModelSpecs (label_key, prediction_key, example_weight_key,
        signature_name) of the candidate and, optionally, the baseline.
      model_dirs: SavedModel directory per model name, names as ``model_name`` gives them.
      schema: optional serialized TFMD Schema; with it tfx_bsl decodes the features it declares
        with their declared types (else types are inferred per batch).

    Raises:
      ConfigError: a model has no directory in model_dirs, or a ModelSpec has no label_key.
      ModelLoadError, SignatureError: as ServingModel and ``prediction_output`` raise them.
    """

    def __init__(self, eval_config: config_pb2.EvalConfig, model_dirs: Dict[ModelName, str],
                 schema: Optional[bytes] = None):
        self._runs: Dict[ModelName, _ModelRun] = {}
        for spec in eval_config.model_specs:
            name = model_name(spec, eval_config)
            if name not in model_dirs:
                raise ConfigError(f"no model directory for model {name!r}; "
                                  f"directories are given for {sorted(model_dirs)}")
            self._runs[name] = _ModelRun(spec, name, model_dirs[name])
        self._decoder = ExamplesToRecordBatchDecoder(schema) if schema else ExamplesToRecordBatchDecoder()

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
            raise ExamplesError(f"cannot decode a batch of {len(serialized)} tf.Examples: {e}") from e
        batch = Batch(features=features, labels={}, predictions={}, example_weights={})
        for name, run in self._runs.items():
            predictions = run.predictions(serialized, features)
            batch.predictions[name] = predictions
            batch.labels[name] = run.labels(features, predictions.shape[1] if predictions.ndim == 2 else 1)
            batch.example_weights[name] = run.example_weights(features)
        return batch


class PredictDoFn(beam.DoFn):
    """Beam DoFn: a batch of serialized tf.Examples (List[bytes]) -> one Batch.

    The models are loaded in ``setup()`` and shared by all DoFn instances of a worker process
    (``apache_beam.utils.shared``), so a multi-threaded worker holds each model once.
    """

    def __init__(self, eval_config: config_pb2.EvalConfig, model_dirs: Dict[ModelName, str],
                 schema: Optional[bytes] = None):
        self._eval_config = eval_config
        self._model_dirs = dict(model_dirs)
        self._schema = schema
        self._shared_builder = shared.Shared()
        self._builder = None

    def setup(self):
        self._builder = self._shared_builder.acquire(
            lambda: BatchBuilder(self._eval_config, self._model_dirs, self._schema))

    def process(self, serialized: List[bytes]) -> Iterator[Batch]:
        yield self._builder.build(serialized)
