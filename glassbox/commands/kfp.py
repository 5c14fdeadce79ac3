"""`glassbox kfp`: the example pipeline on Kubeflow Pipelines: compile it to a pipeline YAML, submit it."""

from __future__ import annotations

import argparse
import shlex

from glassbox.kfp import DEFAULT_IMAGE

DEFAULT_PACKAGE = "pipeline.yaml"


def _compile(args: argparse.Namespace) -> int:
    from glassbox.pipelines import kubeflow_runner

    spec = kubeflow_runner.compile_pipeline(
        args.output,
        args.pipeline_root,
        data_root=args.data_root,
        image=args.image,
        beam_pipeline_args=shlex.split(args.beam_pipeline_args),
        serving_dir=args.serving_dir,
        **({"baseline_resolver": args.baseline} if args.baseline else {}),
    )
    print(
        f"Wrote {args.output}: pipeline {spec.pipeline_info.name!r}, "
        f"{len(spec.root.dag.tasks)} tasks, image {args.image}"
    )
    return 0


def _submit(args: argparse.Namespace) -> int:
    from glassbox.pipelines import kubeflow_runner

    arguments = {kubeflow_runner.DATA_ROOT_PARAMETER: args.data_root} if args.data_root else {}
    run_id = kubeflow_runner.submit_pipeline(
        args.package,
        args.host,
        arguments=arguments,
        run_name=args.run_name,
        experiment_name=args.experiment,
        namespace=args.namespace,
        pipeline_root=args.pipeline_root,
        service_account=args.service_account,
    )
    print(f"Started run {run_id} of {args.package} on {args.host}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "kfp",
        help="compile the example pipeline for Kubeflow Pipelines, or submit it",
        description="The example pipeline (pipelines/demo_pipeline.py) on Kubeflow Pipelines: "
        "`compile` writes its KFP pipeline YAML (KubeflowV2DagRunner, spec 2.1), "
        "`submit` starts a run of it with the KFP client.",
    )
    actions = parser.add_subparsers(dest="action", required=True)

    compile_parser = actions.add_parser("compile", help="write the pipeline YAML")
    compile_parser.add_argument(
        "--output", default=DEFAULT_PACKAGE, help="pipeline file (default: %(default)s)"
    )
    compile_parser.add_argument(
        "--pipeline-root",
        required=True,
        help="where runs write artifacts, e.g. gs://bucket/glassbox: a file system "
        "TensorFlow writes (not KFP's default minio://)",
    )
    compile_parser.add_argument(
        "--data-root",
        help="default of the pipeline's data_root parameter: the directory of CSV "
        "files; without it, each run must give one",
    )
    compile_parser.add_argument(
        "--serving-dir",
        help="where the Pusher copies blessed models (default: PIPELINE_ROOT/serving)",
    )
    compile_parser.add_argument(
        "--image",
        default=DEFAULT_IMAGE,
        help="container image of every component (default: %(default)s)",
    )
    compile_parser.add_argument(
        "--beam-pipeline-args",
        default="",
        help="Beam options of every component, e.g. '--runner=DataflowRunner "
        "--project=P --region=R --temp_location=gs://bucket/tmp'",
    )
    compile_parser.add_argument(
        "--baseline",
        help="how a run finds its baseline, the latest blessed model: "
        "ml_metadata_query, a task querying KFP's ML Metadata (default; "
        "open-source KFP runs it), or latest_blessed_model_strategy, TFX's "
        "Resolver, whose tasks only Vertex AI Pipelines runs",
    )
    compile_parser.set_defaults(run=_compile)

    submit_parser = actions.add_parser(
        "submit", help="start a run of the pipeline YAML on a KFP API server"
    )
    submit_parser.add_argument(
        "--host", required=True, help="KFP API server, e.g. http://localhost:8888"
    )
    submit_parser.add_argument(
        "--package",
        default=DEFAULT_PACKAGE,
        help="pipeline file from `glassbox kfp compile` (default: %(default)s)",
    )
    submit_parser.add_argument(
        "--data-root", help="the run's data_root (default: the compiled default)"
    )
    submit_parser.add_argument(
        "--pipeline-root", help="the run's pipeline root (default: the compiled one)"
    )
    submit_parser.add_argument("--run-name", help="name of the run")
    submit_parser.add_argument(
        "--experiment", help="experiment of the run (default: the server's default)"
    )
    submit_parser.add_argument("--namespace", help="Kubeflow namespace (multi-user clusters)")
    submit_parser.add_argument(
        "--service-account",
        help="Kubernetes service account of the run's pods, e.g. glassbox-pipeline-runner",
    )
    submit_parser.set_defaults(run=_submit)
