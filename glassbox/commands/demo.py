"""`glassbox demo`: the example pipeline under LocalDagRunner with a SQLite ML Metadata store."""

from __future__ import annotations

import argparse

from glassbox.commands.output import print_metrics


def _run(args: argparse.Namespace) -> int:
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
    print_metrics(run.overall_metrics)
    return 0


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "demo", help="run the example pipeline locally on Fair's affairs data",
        description="Runs CsvExampleGen -> Trainer -> Evaluator under TFX's LocalDagRunner with a "
                    "SQLite ML Metadata store, then prints where the artifacts are and the "
                    "evaluation's overall metrics.")
    parser.add_argument("--root", default="demo_output",
                        help="directory for the data, artifacts and metadata.sqlite (default: %(default)s)")
    parser.add_argument("--epochs", type=_non_negative_int,
                        help="training epochs (default: the demo's); 0 exports an untrained model, "
                             "a deliberately bad candidate")
    parser.set_defaults(run=_run)
