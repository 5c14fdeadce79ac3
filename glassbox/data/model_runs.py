"""The models of an EvalConfig, and the Batch (labels, predictions, weights per model) they make of
decoded features and their outputs."""

from __future__ import annotations

from typing import Dict, Optional, Sequence, Set

import numpy as np
import pyarrow as pa
import tensorflow as tf
from tensorflow_model_analysis.proto import config_pb2

from glassbox.data.errors import FeatureTypeError, PredictionError, SignatureError
from glassbox.data.feature_columns import dense_values, holds_bytes
from glassbox.data.models import ServingModel
from glassbox.data.types import Batch, ModelName
from glassbox.errors import ConfigError

# A model's outputs for a batch, numpy arrays by output name.
Outputs = Dict[str, np.ndarray]
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


class ModelRun:
    """One ModelSpec's model and the columns its labels, predictions and weights come from."""

    def __init__(self, spec: config_pb2.ModelSpec, name: ModelName, model_dir: str):
        if not spec.label_key:
            raise ConfigError(f"ModelSpec.label_key of model {name!r} is empty")
        self.spec = spec
        self.describe = f"model {name!r} ({model_dir})"
        self.model = ServingModel(model_dir, spec.signature_name)
        self.output = prediction_output(self.model, spec.prediction_key)

    @property
    def read_features(self) -> Set[str]:
        """The features its labels, weights and (named-input signature) inputs come from."""
        return {self.spec.label_key, self.spec.example_weight_key, *self.model.input_features}

    def predictions(self, outputs: Outputs, num_rows: int) -> np.ndarray:
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


class ModelRuns:
    """Every model of an EvalConfig, by the name TFMA keys it by (``model_name``).

    Args:
      eval_config: the ModelSpecs (label_key, prediction_key, example_weight_key,
        signature_name) of the candidate and, optionally, the baseline.
      model_dirs: SavedModel directory per model name.

    Raises:
      ConfigError: a model has no directory in model_dirs, or a ModelSpec has no label_key.
      ModelLoadError, SignatureError: as ServingModel and ``prediction_output`` raise them.
    """

    def __init__(self, eval_config: config_pb2.EvalConfig, model_dirs: Dict[ModelName, str]):
        self.runs: Dict[ModelName, ModelRun] = {}
        for spec in eval_config.model_specs:
            name = model_name(spec, eval_config)
            if name not in model_dirs:
                raise ConfigError(
                    f"no model directory for model {name!r}; "
                    f"directories are given for {sorted(model_dirs)}"
                )
            self.runs[name] = ModelRun(spec, name, model_dirs[name])

    @property
    def read_features(self) -> Set[str]:
        """The features the models' labels, weights and inputs come from."""
        return set().union(*(run.read_features for run in self.runs.values()))

    def predict(
        self, serialized: Sequence[bytes], features: pa.RecordBatch
    ) -> Dict[ModelName, Outputs]:
        """Every model's outputs for one batch of examples, raw and decoded (ServingModel.predict)."""
        return {name: run.model.predict(serialized, features) for name, run in self.runs.items()}

    def batch(
        self,
        features: pa.RecordBatch,
        outputs: Dict[ModelName, Outputs],
        num_rows: int,
        batch_size: int,
    ) -> Batch:
        """The Batch of num_rows examples: outputs holds the outputs of some models (those that
        take serialized examples, called by the fast decoder) or all; the others are called here on
        the features, batch_size examples at a time.

        Raises:
          MissingFeatureError / FeatureTypeError: a label, weight or model input is absent from
            some examples, multi-valued where one value is due, or not numeric.
          PredictionError: a model fails on the batch or predicts NaN/inf.
        """
        batch = Batch(features=features, labels={}, predictions={}, example_weights={})
        for name, run in self.runs.items():
            model_outputs = outputs.get(name)
            if model_outputs is None:
                model_outputs = run.model.predict_in_batches(features, batch_size)
            predictions = run.predictions(model_outputs, num_rows)
            batch.predictions[name] = predictions
            batch.labels[name] = run.labels(
                features, predictions.shape[1] if predictions.ndim == 2 else 1
            )
            batch.example_weights[name] = run.example_weights(features)
        return batch
