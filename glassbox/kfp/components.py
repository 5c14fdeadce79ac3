"""Native KFP components (lightweight Python components in the glassbox image) running the same
engines as the TFX components, for KFP pipelines written with the KFP SDK:

    from glassbox.kfp.components import evaluate, validate
    evaluated = evaluate(examples=..., model=..., eval_config=EVAL_CONFIG)
    validated = validate(evaluation=evaluated.outputs["evaluation"], model=...)
    with dsl.If(validated.outputs["Output"] == True):  # blessed
        ...  # push

Each body only calls `glassbox.kfp.steps`, which the image has installed.
"""

from typing import List, Optional

from kfp import dsl

from glassbox.kfp import DEFAULT_IMAGE


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def evaluate(
    examples: dsl.Input[dsl.Dataset],
    model: dsl.Input[dsl.Model],
    eval_config: str,
    evaluation: dsl.Output[dsl.Artifact],
    metrics: dsl.Output[dsl.Metrics],
    report: dsl.Output[dsl.HTML],
    baseline_model: Optional[dsl.Input[dsl.Model]] = None,
    schema: Optional[dsl.Input[dsl.Artifact]] = None,
    example_splits: List[str] = [],
    explain_config: str = "",
    beam_pipeline_args: List[str] = [],
    drift_config: str = "",
    drift_reference_split: str = "",
):
    """Sliced metrics of `model` (and diffs against `baseline_model`) on `examples`, and
    explanations, as the glassbox Evaluator computes them.

    Args:
      examples: TFRecords of tf.Examples (a file, a dir, or a TFX Examples dir with Split-*/).
      model: a SavedModel dir, or a TFX Model dir holding Format-Serving/.
      eval_config: the tfma.EvalConfig as JSON or text proto.
      evaluation: TFMA's on-disk format (tfma.load_eval_result reads it), with the explanations;
        metadata: the Evaluator's custom properties (the overall slice's metrics as
        `overall_<name>`, the splits evaluated, the models' URIs).
      metrics: the overall slice's scalar metrics.
      report: the evaluation's HTML report (the KFP UI shows it).
      baseline_model: optional baseline for diff metrics (the BaselineResolver's Model marked as
        no baseline counts as none).
      schema: optional TFMD Schema (a text-format file, or a dir holding schema.pbtxt) to decode
        the examples with.
      example_splits: splits of a TFX Examples dir (default ['eval']).
      explain_config: the glassbox ExplainConfig as JSON or text proto; empty: no explanations.
      beam_pipeline_args: Beam options.
      drift_config: the glassbox DriftConfig as JSON or text proto: drift sketches in the
        evaluation (drift_sketches.json); empty: none.
      drift_reference_split: with drift_config, the split of `examples` (e.g. 'train') the
        drift is measured from (drift.json).
    """
    from glassbox.kfp import steps

    steps.evaluate(
        examples,
        model,
        eval_config,
        evaluation,
        metrics,
        report,
        baseline_model,
        schema,
        example_splits,
        explain_config,
        beam_pipeline_args,
        drift_config,
        drift_reference_split,
    )


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def validate(
    evaluation: dsl.Input[dsl.Artifact],
    blessing: dsl.Output[dsl.Artifact],
    validation: dsl.Output[dsl.Artifact],
    report: dsl.Output[dsl.HTML],
    model: Optional[dsl.Input[dsl.Model]] = None,
    baseline_model: Optional[dsl.Input[dsl.Model]] = None,
    config: str = "",
    eval_config: str = "",
) -> bool:
    """Blesses the evaluated model or refuses it, as the glassbox Validator does; returns whether
    blessed.

    Args:
      evaluation: an evaluation in TFMA's format (from `evaluate`, the Evaluator or TFMA).
      blessing: an empty BLESSED or NOT_BLESSED file; metadata: the Validator's blessing's
        properties (blessed, validation_ok, rubber_stamp, failures, reason, current_model,
        baseline_model).
      validation: TFMA's ValidationResult, decision.json, decision.md and report.html.
      report: the HTML report of the evaluation with the decision (the KFP UI shows it).
      model: the candidate the evaluation must be of (checked first, as the Validator does);
        without it, the blessing names the models the evaluation's metadata records.
      baseline_model: the baseline the evaluation must have compared against (with `model`).
      config: the ValidatorConfig (gates) as JSON or text proto; empty: none.
      eval_config: a tfma.EvalConfig whose thresholds replace the evaluation's own; empty: its own.
    """
    from glassbox.kfp import steps

    return steps.validate(
        evaluation, blessing, validation, report, model, baseline_model, config, eval_config
    )
