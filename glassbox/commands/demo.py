"""`glassbox demo`: the example pipeline under LocalDagRunner with a SQLite ML Metadata store, three
times: a first model is rubber-stamped and pushed, a better one blessed against it and pushed, and
an untrained one refused, with the reasons."""

from __future__ import annotations

import argparse
import os
import time

from glassbox import keys


def _run(args: argparse.Namespace) -> int:
    from glassbox.pipelines.demo_pipeline import AUC
    from glassbox.pipelines.local_runner import DEMO_RUNS, check_fresh_root, run_demo
    from glassbox.validation.checks import ATTRIBUTION

    check_fresh_root(args.root)
    print(
        f"Running the example pipeline {len(DEMO_RUNS)} times under TFX's LocalDagRunner into "
        f"{os.path.abspath(args.root)} (about a minute per run) ...",
        flush=True,
    )
    for number, (title, training) in enumerate(DEMO_RUNS, start=1):
        print(f"Run {number} of {len(DEMO_RUNS)}: {title}", flush=True)
        started = time.monotonic()
        run = run_demo(args.root, training=training)
        print(f"  Took:         {time.monotonic() - started:.0f} s")
        print(f"  Model:        {run.model_uri}")
        print(f"  Model id:     {run.model_id} (in ML Metadata)")
        print(f"  Baseline:     {run.baseline_model_uri or 'none (no model blessed yet)'}")
        print(f"  Evaluation:   {run.evaluation_uri}")
        print(f"  Validation:   {run.validation_uri}")
        print(f"  AUC:          {run.overall_metrics[AUC]:.4f} (eval split, overall)")
        print(f"  Decision:     {run.decision['reason']}")
        for check in run.decision["checks"]:
            if not check["passed"]:
                print(f"    - {check['sentence']}")
        for check in run.decision["checks"]:
            if check["kind"] == ATTRIBUTION and check["passed"]:  # failed ones are listed above
                print(f"  Attributions: {check['sentence']}")
        print(f"  Pushed to:    {run.pushed_destination or 'not pushed'}")
        print(f"  Reports:      {os.path.join(run.evaluation_uri, keys.REPORT_FILE)} (evaluation)")
        print(f"                {os.path.join(run.validation_uri, keys.REPORT_FILE)} (validation)")
    print(f"ML Metadata:    {run.metadata_path}")
    print("Next:")
    print(f"  glassbox lineage --mlmd {run.metadata_path} --model-id {run.model_id}")
    print(f"  glassbox history --mlmd {run.metadata_path} --metric {AUC} --html history.html")
    print(f"  glassbox model-card --mlmd {run.metadata_path} --latest-push --output model_card")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "demo",
        help="run the example pipeline locally on Fair's affairs data, three times",
        description="Runs CsvExampleGen -> Trainer -> Evaluator -> Validator -> Pusher under TFX's "
        "LocalDagRunner with a SQLite ML Metadata store, three times: a first model "
        "(rubber-stamped: no baseline yet), a better one (blessed against it) and an "
        "untrained one (refused). Prints each run's artifacts, metrics, decision and "
        "reports (HTML, written into the evaluation and validation artifacts).",
    )
    parser.add_argument(
        "--root",
        default="demo_output",
        help="new directory for the data, artifacts, pushed models and metadata.sqlite "
        "(default: %(default)s)",
    )
    parser.set_defaults(run=_run)
