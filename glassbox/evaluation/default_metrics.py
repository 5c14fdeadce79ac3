"""``options.include_default_metrics``: what is added for each Keras model's compiled loss and
metrics (``keras_compiled``), said in a sentence per model."""

from __future__ import annotations

from typing import Dict, List

from tensorflow_model_analysis.proto import config_pb2

from glassbox.data.keras_metadata import compiled_metric_names


def default_metrics_notes(
    eval_config: config_pb2.EvalConfig, model_dirs: Dict[str, str]
) -> List[str]:
    """A sentence per model (by role, e.g. 'candidate') on its compiled loss and metrics, when
    include_default_metrics is not set false: those computed beside the config's metrics, as TFMA
    adds them, or that the SavedModel carries no Keras metadata (then TFMA has none to add
    either)."""
    options = eval_config.options
    if options.HasField("include_default_metrics") and not options.include_default_metrics.value:
        return []
    notes = []
    for role, model_dir in model_dirs.items():
        names = compiled_metric_names(model_dir)
        if names is None:
            notes.append(
                f"{role} model {model_dir} carries no Keras metadata (e.g. a Keras 3 "
                "model.export() or a plain tf.Module): no compiled metrics to add "
                "(options.include_default_metrics); TFMA adds none either"
            )
        elif names:
            notes.append(
                f"{role} model {model_dir} was compiled with {', '.join(names)}: computed too, "
                "as TFMA adds them (options.include_default_metrics, true unless set false)"
            )
    return notes
