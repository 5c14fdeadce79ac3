"""Loading SavedModels and calling one of their signatures once per batch of examples."""

from __future__ import annotations

import math
import re
from typing import Dict, List, Optional, Sequence

import numpy as np
import pyarrow as pa
import tensorflow as tf

from glassbox.data.errors import FeatureTypeError, ModelLoadError, PredictionError, SignatureError
from glassbox.data.feature_columns import dense_values, holds_bytes

DEFAULT_SIGNATURE = tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY

# Lines of a TensorFlow "Graph execution error" that say where, not what.
_WHERE_LINES = ("Detected at node", "Node:", "<stack traces")


def tf_error_cause(error: tf.errors.OpError) -> str:
    """A TensorFlow error's cause, first: without the "Graph execution error" preamble, the
    trace of where its node was defined, and the op and node markers."""
    message = error.message
    if not message.startswith("Graph execution error"):
        return message
    cause = [
        line
        for line in message.splitlines()[1:]
        if line.strip() and not line.startswith((" ", "\t", *_WHERE_LINES))
    ]
    text = re.sub(r"\s*\[Op:[^\]]*\]", "", " ".join(cause)).strip()
    return text or message


# Keras may name a model input '<feature>_input'; TFMA feeds it the feature (model_util).
_KERAS_INPUT_SUFFIX = "_input"


def resolve_model_dir(path: str) -> str:
    """The SavedModel directory path names: path itself, or a TFX Model artifact's Format-Serving/.

    Raises:
      ModelLoadError: path is not a directory, or neither it nor its serving model dir holds a
        saved_model.pb.
    """
    if not tf.io.gfile.isdir(path):
        raise ModelLoadError(f"model directory {path} does not exist")
    if tf.saved_model.contains_saved_model(path):
        return path
    from tfx.utils import path_utils  # TFX's layout of a Model artifact; TFX takes a while to load

    serving_dir = path_utils.serving_model_path(path)
    if tf.saved_model.contains_saved_model(serving_dir):
        return serving_dir
    raise ModelLoadError(f"no SavedModel (saved_model.pb) in {path} nor in {serving_dir}")


class ServingModel:
    """A SavedModel signature, called once per batch.

    The signature either takes serialized tf.Examples (TFX convention: its only input is a
    tf.string tensor of shape [None], parsed inside the model) or one dense tensor per feature,
    which ``predict`` builds from the decoded Arrow columns.

    Loading takes seconds and the loaded model cannot be pickled: in a Beam DoFn, build it in
    ``setup()``, never in ``__init__`` (see ``batches.PredictDoFn``).

    Attributes:
      model_dir: the SavedModel directory.
      signature_name: the signature called (ModelSpec.signature_name, default serving_default).
      input_specs: the signature's inputs, keyed by name.
      output_names: the signature's output names, sorted.
      takes_serialized_examples: whether the signature parses serialized tf.Examples itself.

    Args:
      model_dir: the SavedModel directory.
      signature_name: the signature to call (default serving_default).
      loaded: the SavedModel already loaded from model_dir (see ``other_signature``).

    Raises:
      ModelLoadError: the SavedModel cannot be loaded (corrupt or incomplete).
      SignatureError: no signature of that name (the message lists the model's signatures), or
        an input of a shape that cannot be fed from tf.Example features.
    """

    def __init__(self, model_dir: str, signature_name: str = "", loaded=None):
        self.model_dir = model_dir
        self.signature_name = signature_name or DEFAULT_SIGNATURE
        if loaded is None:
            try:
                loaded = tf.saved_model.load(model_dir)
            except (OSError, ValueError, tf.errors.OpError) as e:
                raise ModelLoadError(f"cannot load SavedModel {model_dir}: {e}") from e
        self._model = loaded
        signatures = self._model.signatures
        if self.signature_name not in signatures:
            raise SignatureError(
                f"signature {self.signature_name!r} not found in model {model_dir}; "
                f"its signatures are {sorted(signatures)}"
            )
        self._signature = signatures[self.signature_name]
        self.input_specs: Dict[str, tf.TensorSpec] = dict(
            self._signature.structured_input_signature[1]
        )
        self.output_names = sorted(self._signature.structured_outputs)
        only_input = next(iter(self.input_specs.values())) if len(self.input_specs) == 1 else None
        self.takes_serialized_examples = (
            only_input is not None and only_input.dtype == tf.string and only_input.shape.rank == 1
        )
        for name, spec in self.input_specs.items():
            if spec.shape.rank is None or spec.shape.rank < 1 or None in spec.shape[1:]:
                raise SignatureError(
                    f"input {name!r} of signature {self.signature_name!r} in model {model_dir} has "
                    f"shape {spec.shape}; only [None] and fixed [None, d, ...] inputs can be fed"
                )

    @property
    def signature_names(self) -> List[str]:
        """Every signature of the SavedModel, sorted."""
        return sorted(self._model.signatures)

    def other_signature(self, signature_name: str) -> "ServingModel":
        """Another signature of the same loaded SavedModel (not loaded again)."""
        return ServingModel(self.model_dir, signature_name, self._model)

    @property
    def signature(self):
        """The loaded signature: a concrete function taking the inputs by name (differentiable)."""
        return self._signature

    def predict(
        self, serialized: Optional[Sequence[bytes]], features: pa.RecordBatch
    ) -> Dict[str, np.ndarray]:
        """The signature's outputs for a batch, as numpy arrays keyed by output name.

        serialized and features are the same examples, raw and decoded; the signature is fed
        whichever it takes, in one call (serialized may be None for a named-input signature).

        Raises:
          MissingFeatureError / FeatureTypeError: a named input's feature is absent from some
            examples, has the wrong number of values, or strings where numbers are due (or
            the reverse).
          PredictionError: the signature call fails (e.g. it cannot parse the examples).
        """
        try:
            if self.takes_serialized_examples:
                outputs = self.call_serialized(tf.constant(serialized, dtype=tf.string))
            else:
                outputs = self._signature(
                    **{
                        name: self._input_tensor(features, name, spec)
                        for name, spec in self.input_specs.items()
                    }
                )
        except tf.errors.OpError as e:
            raise PredictionError(
                f"signature {self.signature_name!r} of model {self.model_dir} "
                f"failed on a batch of {features.num_rows} examples: {tf_error_cause(e)}"
            ) from e
        return {name: tensor.numpy() for name, tensor in outputs.items()}

    def predict_in_batches(
        self, features: pa.RecordBatch, batch_size: int
    ) -> Dict[str, np.ndarray]:
        """``predict`` of a named-input signature, called on batch_size examples at a time."""
        parts = [
            self.predict(None, features.slice(start, batch_size))
            for start in range(0, features.num_rows, batch_size)
        ]
        return {name: np.concatenate([part[name] for part in parts]) for name in self.output_names}

    def call_serialized(self, serialized: tf.Tensor) -> Dict[str, tf.Tensor]:
        """The outputs of a signature that takes serialized tf.Examples, for a string tensor of
        them; traceable, so that tf.data can call it in its map (see ``batches``)."""
        return self._signature(**{next(iter(self.input_specs)): serialized})

    @property
    def input_features(self) -> List[str]:
        """The features a named-input signature may be fed from (none for serialized examples)."""
        if self.takes_serialized_examples:
            return []
        names = list(self.input_specs)
        return names + [
            name[: -len(_KERAS_INPUT_SUFFIX)]
            for name in names
            if name.endswith(_KERAS_INPUT_SUFFIX)
        ]

    def _input_tensor(self, features: pa.RecordBatch, name: str, spec: tf.TensorSpec) -> tf.Tensor:
        feature = name
        if name not in features.schema.names and name.endswith(_KERAS_INPUT_SUFFIX):
            feature = name[: -len(_KERAS_INPUT_SUFFIX)]
        use = f"input of model {self.model_dir}"
        inner_shape = spec.shape[1:].as_list()
        values = dense_values(features, feature, use, width=math.prod(inner_shape))
        if holds_bytes(features.column(feature)) != (spec.dtype == tf.string):
            raise FeatureTypeError(
                f"feature {feature!r} ({use}) holds "
                f"{features.column(feature).type.value_type} values, the "
                f"signature's input {name!r} takes {spec.dtype.name}"
            )
        return tf.constant(values.reshape([-1] + inner_shape).astype(spec.dtype.as_numpy_dtype))
