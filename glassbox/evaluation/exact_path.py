"""The exact path: an evaluation computed by TFMA's own extractors, evaluators and writer, for
EvalConfigs the vectorised engine does not cover (``fast_path_refusal`` says why), so that no config
TFMA accepts is refused. Slower (TFMA's per-example combiners), with TFMA's values by construction.
"""

from __future__ import annotations

import functools
import os
from typing import Mapping, Optional, Sequence

import apache_beam as beam
from tensorflow_metadata.proto.v0 import schema_pb2
from tensorflow_model_analysis import constants as tfma_constants
from tensorflow_model_analysis.api import types as tfma_types
from tensorflow_model_analysis.proto import config_pb2
from tensorflow_model_analysis.utils.keras_lib import tf_keras
from tensorflow_model_analysis.writers import metrics_plots_and_validations_writer as mpv_writer
from tfx_bsl.tfxio import tensor_adapter, tf_example_record

from glassbox.data.keras_metadata import training_config
from glassbox.evaluation.config import check_fast_path
from glassbox.evaluation.errors import UnsupportedMetricError
from glassbox.evaluation.keras_compiled import compiled_metrics_by_model
from glassbox.evaluation.metrics_plan import MetricsPlan


def fast_path_refusal(
    eval_config: config_pb2.EvalConfig, model_dirs: Mapping[str, Optional[str]]
) -> Optional[str]:
    """Why the vectorised engine cannot compute the prepared config exactly (a field, setting or
    metric it does not cover, or a model's compiled loss or metric), or None when it can."""
    try:
        check_fast_path(eval_config)
        MetricsPlan(eval_config, compiled_metrics_by_model(eval_config, model_dirs))
    except UnsupportedMetricError as e:
        return str(e)
    return None


class EvaluateWithTfma(beam.PTransform):
    """The pipeline's root -> TFMA's metrics and plots files in output_dir, as TFMA's
    ``run_model_analysis`` computes them (its eval_config.json is written by the caller, last).
    A model directory None: the examples hold that model's predictions, as TFMA reads them
    without a model."""

    def __init__(
        self,
        eval_config: config_pb2.EvalConfig,
        model_dirs: Mapping[str, Optional[str]],
        example_files: Sequence[str],
        output_dir: str,
        schema: Optional[bytes] = None,
    ):
        super().__init__()
        self._eval_config = eval_config
        self._model_dirs = dict(model_dirs)
        self._example_files = list(example_files)
        self._output_dir = output_dir
        self._schema = schema_pb2.Schema.FromString(schema) if schema else None

    def expand(self, root):
        models = [
            _shared_model(self._eval_config, name, model_dir)
            for name, model_dir in self._model_dirs.items()
            if model_dir is not None
        ]
        tfxio = tf_example_record.TFExampleRecord(
            file_pattern=self._example_files,
            schema=self._schema,
            raw_record_column_name=tfma_constants.ARROW_INPUT_COLUMN,
        )
        adapter_config = (
            tensor_adapter.TensorAdapterConfig(
                arrow_schema=tfxio.ArrowSchema(),
                tensor_representations=tfxio.TensorRepresentations(),
            )
            if self._schema is not None
            else None
        )
        disabled = set(self._eval_config.options.disabled_outputs.values)
        writer = mpv_writer.MetricsPlotsAndValidationsWriter(
            output_paths={
                key: os.path.join(self._output_dir, key)
                for key in (tfma_constants.METRICS_KEY, tfma_constants.PLOTS_KEY)
                if key not in disabled
            },
            eval_config=self._eval_config,
            output_file_format="tfrecord",
        )
        # TFMA's API module loads its notebook views too: imported only for this path.
        from tensorflow_model_analysis.api import model_eval_lib

        return (
            root
            | "ReadExamples" >> tfxio.BeamSource()
            | "Tfma"
            >> model_eval_lib.ExtractEvaluateAndWriteResults(
                eval_shared_model=models[0] if len(models) == 1 else models or None,
                eval_config=self._eval_config,
                writers=[writer],
                output_path=self._output_dir,
                tensor_adapter_config=adapter_config,
                schema=self._schema,
            )
        )


def _shared_model(
    eval_config: config_pb2.EvalConfig, name: str, model_dir: str
) -> tfma_types.EvalSharedModel:
    """TFMA's shared model for model_dir. A SavedModel written by tf_keras (Keras metadata) is
    loaded by tf_keras, as TFMA loads it where ``TF_USE_LEGACY_KERAS=1`` (TFX's images); in this
    process tf.keras is Keras 3, which cannot load it, and TFMA would miss its compiled metrics."""
    from tensorflow_model_analysis.api import model_eval_lib

    shared = model_eval_lib.default_eval_shared_model(
        eval_saved_model_path=model_dir, model_name=name, eval_config=eval_config
    )
    spec = next(s for s in eval_config.model_specs if s.name == name)
    if spec.model_type or training_config(model_dir) is None:
        return shared
    return shared._replace(
        model_type=tfma_constants.TF_KERAS,
        model_loader=tfma_types.ModelLoader(
            construct_fn=functools.partial(tf_keras.models.load_model, model_dir),
            tags=shared.model_loader.tags,
        ),
    )
