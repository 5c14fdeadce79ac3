"""`run_evaluation`: an evaluation's one Beam pipeline, from model directories and example files to
a complete evaluation directory.

The branches (``branches``: metrics, explanations) run in one pipeline and write into a staging
directory, whose files are moved into the output directory once the whole pipeline succeeded;
eval_config.json comes last, so an evaluation directory holding it is complete.
"""

from __future__ import annotations

import logging
import os
from typing import Callable, Dict, Mapping, Optional, Sequence, Tuple

import apache_beam as beam
import tensorflow as tf
from apache_beam.options.pipeline_options import PipelineOptions
from tensorflow_model_analysis.proto import config_pb2

from glassbox import keys
from glassbox.beam_runner import with_default_runner
from glassbox.data.keras_metadata import compiled_metric_names
from glassbox.engine import branches as branches_lib
from glassbox.engine.branches import Branch, DriftReference, EvaluationInputs
from glassbox.errors import ConfigError, GlassboxError
from glassbox.evaluation import config as config_lib
from glassbox.evaluation import writer
from glassbox.evaluation.errors import TfmaPathError
from glassbox.evaluation.exact_path import fast_path_refusal
from glassbox.evaluation.reconciliation import check_examples_read
from glassbox.evaluation.thresholds import check_thresholds
from glassbox.garbage_collection import existing_objects_spared
from glassbox.protos.drift_config_pb2 import DriftConfig
from glassbox.protos.explain_config_pb2 import ExplainConfig
from glassbox.protos.simple_model_config_pb2 import SimpleModelConfig
from glassbox.simple_model.config import check_simple_model_config
from glassbox.staging import claimed, move_into_place, new_staging_dir, output_error


def run_evaluation(
    eval_config: config_pb2.EvalConfig,
    model_dir: Optional[str],
    example_files: Sequence[str],
    output_dir: str,
    baseline_model_dir: Optional[str] = None,
    beam_pipeline_args: Sequence[str] = (),
    schema: Optional[bytes] = None,
    explain_config: Optional[ExplainConfig] = None,
    drift_config: Optional[DriftConfig] = None,
    drift_reference: Optional[DriftReference] = None,
    simple_model_config: Optional[SimpleModelConfig] = None,
) -> Tuple[config_pb2.EvalConfig, Dict[str, float]]:
    """Evaluates a model (and optionally a baseline) and writes TFMA's format to output_dir.

    model_dir: the candidate's SavedModel, or None when the examples hold its predictions (the
      model spec's prediction_key names them), which TFMA's path reads as TFMA does.
    beam_pipeline_args: Beam options; the runner is glassbox.beam_runner.DEFAULT_RUNNER unless
      they name one.
    schema: optional serialized TFMD Schema to decode the examples with.
    explain_config: optional; the explanations to compute and write beside the metrics
      (glassbox.explain.writer says which files).
    drift_config: optional; drift sketches of the features and predictions, from the metrics'
      read, and with drift_reference their distances from it (glassbox.drift.files).
    simple_model_config: optional; simple interpretable models fitted on a seeded sample of the
      metrics' read and scored beside the candidate (glassbox.simple_model, simple_model.json).

    The metrics are computed by the vectorised engine, or by TFMA itself when the config asks for
    what the engine does not cover (evaluation.exact_path). Files appear in output_dir only when
    the whole evaluation succeeded and, on the fast path, every record read reached the metrics
    (evaluation.reconciliation); eval_config.json comes last. Returns the
    config as applied (TFMA's defaults filled in) and the candidate's overall scalar metrics.

    Raises:
      GlassboxError: bad input; the message names the field, file or value at fault.
    """
    prepared = config_lib.prepare_eval_config(
        eval_config, has_baseline=baseline_model_dir is not None
    )
    model_dirs = model_dirs_by_name(prepared, model_dir, baseline_model_dir)
    if simple_model_config is not None:
        check_simple_model_config(simple_model_config)
    # Thresholds on the models' compiled metrics, which only the models name.
    check_thresholds(
        eval_config,
        compiled_names={
            n for d in model_dirs.values() if d for n in compiled_metric_names(d) or ()
        },
    )
    _check_no_evaluation(output_dir)
    if model_dir is None and (baseline_model_dir is not None or explain_config is not None):
        raise ConfigError(
            "no model to evaluate: a baseline and explanations need the candidate's SavedModel"
        )
    exact_reason = (
        "no model: the predictions are read from the examples (ModelSpec.prediction_key)"
        if model_dir is None
        else fast_path_refusal(prepared, model_dirs)
    )
    if exact_reason and drift_config is not None:
        raise ConfigError(
            "drift is computed beside the vectorised engine's metrics, which do not cover this "
            f"config ({exact_reason}); evaluate drift with a config the engine covers"
        )
    if exact_reason and simple_model_config is not None:
        raise ConfigError(
            "the simpler-model check samples the vectorised engine's batches, which do not cover "
            f"this config ({exact_reason}); run it with a config the engine covers"
        )
    if exact_reason:
        logging.warning("glassbox: metrics computed on TFMA's exact path: %s", exact_reason)
    branches: Dict[str, Branch] = {
        "Metrics": branches_lib.exact_metrics
        if exact_reason
        else branches_lib.metrics
        if drift_config is None and simple_model_config is None
        else branches_lib.metrics_and_drift(drift_config, drift_reference, simple_model_config)
    }
    if explain_config is not None:
        branches["Explanations"] = branches_lib.explanations(explain_config)
    inputs = EvaluationInputs(prepared, model_dirs, list(example_files), schema)
    with claimed(output_dir):
        _check_no_evaluation(output_dir)  # a run that held it may have finished meanwhile
        # TFMA's path counts no records read, so only the fast path reconciles them.
        check = _no_check if exact_reason else check_examples_read
        try:
            run_branches(branches, inputs, output_dir, beam_pipeline_args, check)
        except Exception as e:
            if not exact_reason or isinstance(e, GlassboxError):
                raise
            # TFMA's own refusals (e.g. SQL slices without ZetaSQL) surface as any exception.
            raise TfmaPathError(
                f"TFMA, computing this config on its exact path ({exact_reason}), failed: "
                f"{str(e).splitlines()[0] if str(e) else type(e).__name__}"
            ) from e
        try:
            writer.write_eval_config(
                output_dir,
                prepared,
                data_location=",".join(example_files),
                model_locations={n: d for n, d in model_dirs.items() if d is not None},
            )
        except (OSError, tf.errors.OpError) as e:
            raise output_error(output_dir, e) from e
    candidate = next(s.name for s in prepared.model_specs if not s.is_baseline)
    return prepared, writer.overall_scalar_metrics(output_dir, candidate)


def _no_check(staging: str) -> None:
    pass


def _check_no_evaluation(output_dir: str) -> None:
    """Refuses an output directory holding an evaluation (eval_config.json); one left by a killed
    run (no eval_config.json) is written again."""
    try:
        done = tf.io.gfile.exists(os.path.join(output_dir, keys.EVAL_CONFIG_FILE))
    except (OSError, tf.errors.OpError) as e:
        raise output_error(output_dir, e) from e
    if done:
        raise ConfigError(
            f"output directory {output_dir!r} already holds an evaluation; "
            "choose a new directory so that nothing is overwritten"
        )


def model_dirs_by_name(
    eval_config: config_pb2.EvalConfig, model_dir: Optional[str], baseline_model_dir: Optional[str]
) -> Dict[str, Optional[str]]:
    """Maps the prepared config's model names to the candidate and baseline directories."""
    candidates = [s.name for s in eval_config.model_specs if not s.is_baseline]
    if len(candidates) != 1:
        raise ConfigError(
            f"EvalConfig field 'model_specs' has {len(candidates)} candidate models "
            f"{candidates}; glassbox evaluates one candidate and optionally a baseline"
        )
    dirs = {candidates[0]: model_dir}
    baseline = config_lib.baseline_name(eval_config)
    if baseline is not None:
        dirs[baseline] = baseline_model_dir
    return dirs


def run_branches(
    branches: Mapping[str, Branch],
    inputs: EvaluationInputs,
    output_dir: str,
    beam_pipeline_args: Sequence[str] = (),
    check: Callable[[str], None] = lambda staging: None,
) -> None:
    """Runs the branches, each labelled by its key, in one Beam pipeline; their files appear in
    output_dir only when the whole pipeline succeeded and ``check`` of the staging directory
    raised nothing (nothing is left behind otherwise). Staging directories of killed runs are
    removed first, files they left in output_dir replaced.

    Raises:
      OutputError: output_dir cannot be written (a file, read-only, not permitted, full).
    """
    try:
        staging = new_staging_dir(output_dir)
    except (OSError, tf.errors.OpError) as e:
        raise output_error(output_dir, e) from e
    try:
        options = PipelineOptions(with_default_runner(beam_pipeline_args))
        with existing_objects_spared(), beam.Pipeline(options=options) as pipeline:
            for label, branch in branches.items():
                _ = pipeline | label >> branch(inputs, staging)
        check(staging)
        _check_no_evaluation(output_dir)
        try:
            move_into_place(staging, output_dir)
        except (OSError, tf.errors.OpError) as e:
            raise output_error(output_dir, e) from e
    finally:
        if tf.io.gfile.exists(staging):
            tf.io.gfile.rmtree(staging)
