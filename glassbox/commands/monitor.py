"""`glassbox monitor`: the pipeline's pushed model evaluated on each new data span, with drift,
checked and recorded in ML Metadata."""

from __future__ import annotations

import argparse
import shlex

from glassbox import garbage_collection
from glassbox.commands import mlmd_args

EXIT_FAILED = 1


def _run(args: argparse.Namespace) -> int:
    with garbage_collection.imports_uncollected():  # TensorFlow, Beam, TFMA and ML Metadata
        from glassbox.drift.config import load_drift_config
        from glassbox.engine.monitor import monitor
        from glassbox.evaluation.config import load_eval_config
        from glassbox.validation.config_file import load_validator_config

    outcome = monitor(
        args.mlmd,
        args.output,
        load_eval_config(args.eval_config),
        load_validator_config(args.config) if args.config else None,
        load_drift_config(args.drift_config) if args.drift_config else None,
        pipeline=args.pipeline,
        span=args.span,
        examples=args.examples,
        example_splits=args.split,
        beam_pipeline_args=shlex.split(args.beam_pipeline_args),
    )
    print(
        f"Model {outcome.model_id} ({outcome.model_uri}), pushed by pipeline {outcome.pipeline}; "
        f"drift from {outcome.reference}"
    )
    if not outcome.spans:
        print("No new span to monitor: every span since the model was blessed is monitored.")
    for span in outcome.spans:
        failures = span.failures
        print(
            f"Span {span.span}: {'FAILED' if failures else 'passed'} "
            f"({len(span.decision.checks) - len(failures)} of {len(span.decision.checks)} checks "
            f"passed; evaluation {span.evaluation_id} at {span.evaluation_dir})"
        )
        for sentence in failures:
            print(f"Span {span.span}: {sentence}")
    return EXIT_FAILED if any(span.failures for span in outcome.spans) else 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "monitor",
        help="evaluate the pipeline's pushed model on each new data span, with drift gates",
        description="Evaluates the model the pipeline pushed last (from ML Metadata) on each span "
        "of the pipeline's Examples that arrived after it was blessed and was not monitored yet "
        "(or on --span, or on the data at --examples), with drift from the data it was blessed "
        "on computed in the same pass; checks the EvalConfig's thresholds and the "
        "ValidatorConfig's gates, records each span's evaluation in ML Metadata (`glassbox "
        "history` plots it by span) and prints one sentence per failed check. Exit status: 0 "
        "every check passed, 1 a check failed, 2 bad input.",
    )
    mlmd_args.add_store_arguments(parser)
    parser.add_argument(
        "--eval-config",
        required=True,
        help="tfma.EvalConfig (text proto or JSON): metrics, slices and thresholds (no baseline)",
    )
    parser.add_argument(
        "--config", help="ValidatorConfig (text proto or JSON): gates, e.g. drift_gates"
    )
    parser.add_argument(
        "--drift-config",
        help="DriftConfig (text proto or JSON): features sketched (default: every feature)",
    )
    parser.add_argument(
        "--output",
        required=True,
        help="directory receiving model-<id>/span-<span>/{evaluation,validation}",
    )
    parser.add_argument(
        "--span",
        type=int,
        help="monitor this span only (of the pipeline's Examples, or of --examples)",
    )
    parser.add_argument(
        "--examples",
        help="data outside the pipeline (TFRecord file, glob or dir, or an Examples artifact "
        "dir) to monitor as --span",
    )
    parser.add_argument(
        "--split",
        action="append",
        help="splits of an Examples artifact to read (repeatable; default: all of them)",
    )
    parser.add_argument(
        "--beam-pipeline-args", default="", help="Beam options, as for `glassbox evaluate`"
    )
    parser.set_defaults(run=_run)
