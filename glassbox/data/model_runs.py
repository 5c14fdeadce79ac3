"""The models of an EvalConfig, and the Batch (labels, predictions, weights per model) they make of
decoded features and their outputs."""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Set

import numpy as np
import pyarrow as pa
import tensorflow as tf
from tensorflow_model_analysis.proto import config_pb2

from glassbox.data.errors import (
    FeatureTypeError,
    FeatureValueError,
    PredictionError,
    SignatureError,
)
from glassbox.data.feature_columns import check_rows, dense_values, holds_bytes
from glassbox.data.models import ServingModel, tf_error_cause
from glassbox.data.slicing import evaluated_slicing_specs, sliced_features
from glassbox.data.transformed import as_ragged, overlay, record_batch
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
# The preprocessing signatures TFMA calls when a ModelSpec names none, if the model has them
# (transformed_features_extractor._DEFAULT_SIGNATURE_NAMES).
_DEFAULT_PREPROCESSING = ("transformed_features", "transformed_labels")


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
    """One ModelSpec's model, its preprocessing signatures, and the columns its labels, predictions
    and weights come from.

    Args:
      spec: the ModelSpec.
      name: the model's name (``model_name``).
      model_dir: its SavedModel directory.
      field: the spec's path in the EvalConfig (e.g. 'model_specs[0]'), for error messages.

    Raises:
      ConfigError: no label_key, or a preprocessing function that is not a signature of the
        model or does not take serialized tf.Examples.
    """

    def __init__(
        self, spec: config_pb2.ModelSpec, name: ModelName, model_dir: str, field: str = ""
    ):
        if not spec.label_key:
            raise ConfigError(f"ModelSpec.label_key of model {name!r} is empty")
        self.spec = spec
        self.describe = f"model {name!r} ({model_dir})"
        self.model = ServingModel(model_dir, spec.signature_name)
        self.output = prediction_output(self.model, spec.prediction_key)
        self._preprocessing = self._preprocessing_signatures(field or "model_specs[?]")
        # The read features its preprocessing computes (``select_transformed``).
        self.transformed: Set[str] = set()

    def _preprocessing_signatures(self, field: str) -> List[ServingModel]:
        available = self.model.signature_names
        names = list(self.spec.preprocessing_function_names)
        if not names:
            return [self.model.other_signature(n) for n in _DEFAULT_PREPROCESSING if n in available]
        where = f"EvalConfig field '{field}.preprocessing_function_names'"
        signatures = []
        for name in names:
            if name not in available:
                raise ConfigError(
                    f"{where} names {name!r}, which is not a signature of {self.describe}; "
                    f"its signatures are {available}"
                )
            signature = self.model.other_signature(name)
            if not signature.takes_serialized_examples:
                raise ConfigError(
                    f"{where} names {name!r}, a signature of {self.describe} taking the inputs "
                    f"{sorted(signature.input_specs)}; glassbox calls preprocessing signatures "
                    "that take serialized tf.Examples (as TFX's transform_features does)"
                )
            signatures.append(signature)
        return signatures

    @property
    def read_features(self) -> Set[str]:
        """The features its labels, weights and (named-input signature) inputs come from."""
        return {self.spec.label_key, self.spec.example_weight_key, *self.model.input_features}

    def select_transformed(self, read: Set[str]) -> None:
        """Takes, of the read features, those its preprocessing signatures output."""
        outputs = {name for signature in self._preprocessing for name in signature.output_names}
        self.transformed = outputs & read

    def transform_serialized(self, serialized: tf.Tensor) -> Dict[str, tf.RaggedTensor]:
        """The transformed features read (``transformed``) of a string tensor of serialized
        tf.Examples, as ragged rows; traceable. A later signature's output wins (as in TFMA)."""
        columns: Dict[str, tf.RaggedTensor] = {}
        for signature in self._preprocessing:
            wanted = self.transformed.intersection(signature.output_names)
            if wanted:
                outputs = signature.call_serialized(serialized)
                columns.update({name: as_ragged(outputs[name]) for name in sorted(wanted)})
        return columns

    def transform(self, serialized: Sequence[bytes]) -> Optional[pa.RecordBatch]:
        """``transform_serialized`` of a batch, eagerly, as Arrow columns (None: none read).

        Raises:
          PredictionError: a preprocessing signature fails on the batch.
        """
        if not self.transformed:
            return None
        try:
            columns = self.transform_serialized(tf.constant(serialized, dtype=tf.string))
        except tf.errors.OpError as e:
            names = [signature.signature_name for signature in self._preprocessing]
            raise PredictionError(
                f"preprocessing signatures {names} of {self.describe} failed on a batch of "
                f"{len(serialized)} examples: {tf_error_cause(e)}"
            ) from e
        return record_batch(columns)

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
            ).at_row(rows[0])
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
        """float64 weights, one per example: example_weight_key's values, else ones.

        Raises:
          FeatureValueError: a weight is negative, NaN or infinite (no metric is defined then).
        """
        key = self.spec.example_weight_key
        if not key:
            return np.ones(features.num_rows)
        use = f"example_weight_key of {self.describe}"
        weights = self._numbers(features, key, use, width=1)[:, 0]
        check_rows(
            ~(weights >= 0) | np.isinf(weights),
            key,
            use,
            "hold a negative, NaN or infinite weight",
            FeatureValueError,
            weights,
        )
        return weights

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

    Attributes:
      runs: the ModelRun of each model, in ModelSpec order.
      read_features: the features the evaluation reads: the models' labels, weights and inputs,
        and the sliced features (raw or transformed).

    Raises:
      ConfigError: a model has no directory in model_dirs, a ModelSpec has no label_key, or
        names a preprocessing function the model lacks.
      ModelLoadError, SignatureError: as ServingModel and ``prediction_output`` raise them.
    """

    def __init__(self, eval_config: config_pb2.EvalConfig, model_dirs: Dict[ModelName, str]):
        self.runs: Dict[ModelName, ModelRun] = {}
        for index, spec in enumerate(eval_config.model_specs):
            name = model_name(spec, eval_config)
            if name not in model_dirs:
                raise ConfigError(
                    f"no model directory for model {name!r}; "
                    f"directories are given for {sorted(model_dirs)}"
                )
            self.runs[name] = ModelRun(spec, name, model_dirs[name], f"model_specs[{index}]")
        sliced = sliced_features([spec for _, spec in evaluated_slicing_specs(eval_config)])
        for run in self.runs.values():
            run.select_transformed(run.read_features | sliced)
        self.read_features: Set[str] = set().union(
            sliced, *(run.read_features for run in self.runs.values())
        )
        self.read_features.discard("")

    def transform(self, serialized: Sequence[bytes]) -> Dict[ModelName, pa.RecordBatch]:
        """The transformed features read of each model that has any, for one batch."""
        transformed = {name: run.transform(serialized) for name, run in self.runs.items()}
        return {name: columns for name, columns in transformed.items() if columns is not None}

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
        transformed: Dict[ModelName, pa.RecordBatch],
    ) -> Batch:
        """The Batch of num_rows examples: outputs holds the outputs of some models (those that
        take serialized examples, called by the fast decoder) or all; the others are called here on
        the (raw) features, batch_size examples at a time. transformed holds each model's
        transformed features read (``transform``); labels, weights and the Batch's features take
        them before raw ones of the same name, as TFMA does (see ``transformed``).

        Raises:
          MissingFeatureError / FeatureTypeError: a label, weight or model input is absent from
            some examples, multi-valued where one value is due, or not numeric.
          PredictionError: a model fails on the batch or predicts NaN/inf.
        """
        merged = overlay(features, *(transformed.get(name) for name in self.runs))
        batch = Batch(features=merged, labels={}, predictions={}, example_weights={})
        for name, run in self.runs.items():
            model_outputs = outputs.get(name)
            if model_outputs is None:
                model_outputs = run.model.predict_in_batches(features, batch_size)
            predictions = run.predictions(model_outputs, num_rows)
            own = overlay(features, transformed.get(name))
            batch.predictions[name] = predictions
            batch.labels[name] = run.labels(
                own, predictions.shape[1] if predictions.ndim == 2 else 1
            )
            batch.example_weights[name] = run.example_weights(own)
        return batch
