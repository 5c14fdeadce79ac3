"""The `glassbox` command line: the components' engines outside a pipeline, and the local demo pipeline."""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Mapping, Optional, Sequence

EXIT_ERROR = 2


def _evaluate(args: argparse.Namespace) -> int:
    from glassbox.evaluation.config import load_eval_config
    from glassbox.evaluation.evaluate import run_evaluation
    from glassbox.evaluation.examples import resolve_example_files
    from glassbox.evaluation.models import resolve_model_dir

    _, overall = run_evaluation(
        load_eval_config(args.eval_config),
        model_dir=resolve_model_dir(args.model),
        example_files=resolve_example_files(args.examples, args.split or None),
        output_dir=args.output,
        baseline_model_dir=resolve_model_dir(args.baseline) if args.baseline else None,
        beam_pipeline_args=shlex.split(args.beam_pipeline_args))
    print(f"Wrote evaluation to {args.output}")
    _print_metrics(overall)
    return 0


def _demo(args: argparse.Namespace) -> int:
    import dataclasses

    from glassbox.pipelines.demo_pipeline import DEFAULT_TRAINING
    from glassbox.pipelines.local_runner import run_demo

    training = DEFAULT_TRAINING if args.epochs is None else dataclasses.replace(DEFAULT_TRAINING, epochs=args.epochs)
    run = run_demo(args.root, training=training)
    print(f"ML Metadata:  {run.metadata_path}")
    print(f"Examples:     {run.examples_uri}")
    print(f"Model:        {run.model_uri}")
    print(f"Evaluation:   {run.evaluation_uri}")
    print("Overall metrics on the eval split:")
    _print_metrics(run.overall_metrics)
    return 0


def _print_metrics(metrics: Mapping[str, float]) -> None:
    for name, value in sorted(metrics.items()):
        print(f"  {name:<40} {value:.6g}")


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="glassbox", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    evaluate = commands.add_parser(
        "evaluate", help="compute sliced metrics of a SavedModel in TFMA's format",
        description="Evaluates a model on TFRecord examples under a tfma.EvalConfig and writes "
                    "TFMA's format (tfma.load_eval_result reads it).")
    evaluate.add_argument("--model", required=True,
                          help="SavedModel dir, or a TFX Model artifact dir holding Format-Serving/")
    evaluate.add_argument("--examples", required=True,
                          help="TFRecord file, glob or dir (gzip or not), or a TFX Examples artifact dir")
    evaluate.add_argument("--split", action="append",
                          help="with a TFX Examples artifact dir: split to use (repeatable; default: all)")
    evaluate.add_argument("--eval-config", required=True, help="tfma.EvalConfig as text proto or JSON")
    evaluate.add_argument("--output", required=True, help="output dir (must not hold an evaluation yet)")
    evaluate.add_argument("--baseline", help="baseline model dir, for diff metrics")
    evaluate.add_argument("--beam-pipeline-args", default="",
                          help="Beam options, e.g. '--runner=DirectRunner --direct_num_workers=2'")
    evaluate.set_defaults(run=_evaluate)

    demo = commands.add_parser(
        "demo", help="run the example pipeline locally on Fair's affairs data",
        description="Runs CsvExampleGen -> Trainer -> Evaluator under TFX's LocalDagRunner with a "
                    "SQLite ML Metadata store, then prints where the artifacts are and the "
                    "evaluation's overall metrics.")
    demo.add_argument("--root", default="demo_output",
                      help="directory for the data, artifacts and metadata.sqlite (default: %(default)s)")
    demo.add_argument("--epochs", type=_non_negative_int,
                      help="training epochs (default: the demo's); 0 exports an untrained model, "
                           "a deliberately bad candidate")
    demo.set_defaults(run=_demo)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    from glassbox.evaluation.errors import EvaluationError

    try:
        return args.run(args)
    except EvaluationError as e:
        print(f"glassbox {args.command}: error: {e}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
