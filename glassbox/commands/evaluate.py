"""`glassbox evaluate`: the Evaluator's engine on files, outside a pipeline."""

from __future__ import annotations

import argparse
import shlex

from glassbox import garbage_collection
from glassbox.commands.output import print_metrics, write_properties


def _run(args: argparse.Namespace) -> int:
    with garbage_collection.imports_uncollected():  # TensorFlow, Beam and TFMA
        from glassbox.config_files import load_schema
        from glassbox.drift.config import load_drift_config
        from glassbox.engine.evaluate import evaluate
        from glassbox.engine.outcome import ModelArtifact
        from glassbox.evaluation.config import load_eval_config
        from glassbox.explain.config import load_explain_config

    outcome = evaluate(
        load_eval_config(args.eval_config),
        ModelArtifact(args.model),
        args.examples,
        args.output,
        ModelArtifact(args.baseline) if args.baseline else None,
        example_splits=args.split,
        beam_pipeline_args=shlex.split(args.beam_pipeline_args),
        schema=load_schema(args.schema) if args.schema else None,
        explain_config=load_explain_config(args.explain_config) if args.explain_config else None,
        tensorboard_dir=args.tensorboard,
        drift_config=load_drift_config(args.drift_config) if args.drift_config else None,
        drift_reference=_drift_reference(args),
        simple_model_config=_simple_model_config(args.simple_model_config),
    )
    print(f"Wrote evaluation to {args.output}, its report to {outcome.report}")
    if args.tensorboard:
        print(
            f"Wrote TensorBoard summaries to {args.tensorboard} (tensorboard --logdir {args.tensorboard})"
        )
    if args.properties:
        write_properties(args.properties, outcome.properties)
        print(f"Wrote its properties to {args.properties}")
    print_metrics(outcome.overall_metrics)
    _print_drift(args.output)
    _print_simple_models(args.output)
    for note in outcome.notes:
        print(f"Note: {note}")
    return 0


def _drift_reference(args: argparse.Namespace):
    from glassbox.engine.evaluate import resolve_drift_reference
    from glassbox.errors import ConfigError

    examples = args.drift_reference_examples
    if args.drift_reference_split and not examples:
        examples = args.examples  # another split of the evaluated Examples artifact
    if args.drift_reference and examples:
        raise ConfigError(
            "--drift-reference (a previous evaluation) and --drift-reference-examples or "
            "--drift-reference-split (examples) are exclusive: give one reference"
        )
    if not args.drift_reference and not examples:
        return None
    return resolve_drift_reference(args.drift_reference, examples, args.drift_reference_split or ())


def _print_drift(output: str, shown: int = 3) -> None:
    """The overall slice's most drifting features and the predictions' shift, if measured."""
    from glassbox.drift.reading import read_drift

    drift = read_drift(output)
    if drift is None:
        return
    overall = next((s for s in drift["slices"] if not s["slice"]), None)
    print(f"Drift from {drift['reference']} (Jensen-Shannon, bits; drift.json has every slice):")
    entries = (overall["features"][:shown] + overall["predictions"]) if overall else []
    for entry in entries:
        value = entry.get("jensen_shannon")
        print(
            f"  {entry['name']:<40} "
            + (f"{value:.6g}" if value is not None else f"not compared: {entry.get('error')}")
        )


def _print_simple_models(output: str) -> None:
    """The candidate's score beside the simple models', if the check ran."""
    from glassbox.simple_model.files import read_comparison

    comparison = read_comparison(output)
    if comparison is None:
        return
    print(
        f"Simpler models ({comparison['metric']} on {comparison['held_out_examples']} held-out "
        f"examples; simple_model.json has their coefficients and rules):"
    )
    print(f"  {'candidate':<40} {comparison['candidate']['score']:.6g}")
    for model in comparison["models"]:
        print(
            f"  {model['name']:<40} {model['score']:.6g} (candidate {model['candidate_lead']:+.6g})"
        )


def _simple_model_config(path):
    from glassbox.simple_model.config import load_simple_model_config

    return load_simple_model_config(path) if path else None


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "evaluate",
        help="compute sliced metrics of a SavedModel in TFMA's format",
        description="Evaluates a model on TFRecord examples under a tfma.EvalConfig and writes "
        "TFMA's format (tfma.load_eval_result reads it).",
    )
    parser.add_argument(
        "--model",
        required=True,
        help="SavedModel dir, or a TFX Model artifact dir holding Format-Serving/",
    )
    parser.add_argument(
        "--examples",
        required=True,
        help="TFRecord file, glob or dir (gzip or not), or a TFX Examples artifact dir",
    )
    parser.add_argument(
        "--split",
        action="append",
        help="with a TFX Examples artifact dir: split to use (repeatable; default: eval, as the "
        "TFX Evaluator)",
    )
    parser.add_argument(
        "--eval-config", required=True, help="tfma.EvalConfig as text proto or JSON"
    )
    parser.add_argument(
        "--output", required=True, help="output dir (must not hold an evaluation yet)"
    )
    parser.add_argument("--baseline", help="baseline model dir, for diff metrics")
    parser.add_argument(
        "--schema",
        help="TFMD Schema (text proto, e.g. SchemaGen's schema.pbtxt, or a Schema artifact dir) "
        "to decode the examples with",
    )
    parser.add_argument(
        "--explain-config",
        help="glassbox ExplainConfig as text proto or JSON: explanations to compute "
        "(protos/explain_config.proto)",
    )
    parser.add_argument(
        "--simple-model-config",
        metavar="FILE",
        help="glassbox SimpleModelConfig as text proto or JSON (protos/simple_model_config.proto; "
        "'{}' for the defaults): fit simple interpretable models on a sample of the examples and "
        "score them beside the candidate (simple_model.json)",
    )
    parser.add_argument(
        "--tensorboard",
        metavar="DIR",
        help="also write the metrics and each slice's PR curves as TensorBoard summaries to DIR",
    )
    drift = parser.add_argument_group(
        "drift",
        "sketch the features and predictions per slice; with a reference, their distances "
        "from it (drift.json, the report's Drift view, the Validator's drift_gates)",
    )
    drift.add_argument(
        "--drift-config",
        metavar="FILE",
        help="glassbox DriftConfig as text proto or JSON (protos/drift_config.proto); with a "
        "reference and no config, every feature is sketched",
    )
    drift.add_argument(
        "--drift-reference",
        metavar="DIR",
        help="a previous evaluation's output dir holding its drift_sketches.json (the baseline's, "
        "a previous span's)",
    )
    drift.add_argument(
        "--drift-reference-examples",
        metavar="PATH",
        help="reference examples: TFRecord file, glob or dir, or a TFX Examples artifact dir "
        "(with --drift-reference-split), read and sketched in the same pipeline",
    )
    drift.add_argument(
        "--drift-reference-split",
        action="append",
        metavar="SPLIT",
        help="split of the reference's Examples artifact (repeatable), e.g. train; without "
        "--drift-reference-examples, of --examples",
    )
    parser.add_argument(
        "--beam-pipeline-args",
        default="",
        help="Beam options, e.g. '--direct_num_workers=2 --direct_running_mode=multi_processing' "
        "(runner: FnApiRunner unless --runner names one)",
    )
    parser.add_argument(
        "--properties",
        help="also write the ModelEvaluation's custom properties, as the TFX Evaluator sets them, "
        "to this JSON file (`glassbox validate --evaluation-properties` reads it)",
    )
    parser.set_defaults(run=_run)
