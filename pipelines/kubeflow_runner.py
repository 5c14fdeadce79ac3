"""Compiles the demo pipeline for Kubeflow Pipelines (KFP) and submits it with the KFP client.

The pipeline is `demo_pipeline.create_pipeline`'s, as for the local runner, compiled by TFX's
`KubeflowV2DagRunner` to a KFP pipeline spec 2.1 YAML. Its one run-time parameter, `data_root`,
is where the CSV files are (a bucket path on a cluster). Every TFX component runs in `image`
under `glassbox.kfp.tfx_entrypoint`, TFX's container entrypoint with two repairs (see there).
The baseline is found by the BaselineResolver, a container task querying KFP's ML Metadata, so
open-source KFP runs the pipeline as compiled (it runs no resolver tasks).
"""

from __future__ import annotations

import os
from typing import Any, Dict, Optional, Sequence

from google.protobuf import json_format
from kfp.compiler import pipeline_spec_builder
from kfp.pipeline_spec import pipeline_spec_pb2
from tensorflow_model_analysis.proto import config_pb2
from tfx.orchestration import data_types
from tfx.orchestration.kubeflow.v2 import kubeflow_v2_dag_runner

from glassbox.errors import GlassboxError
from glassbox.kfp import DEFAULT_IMAGE
from glassbox.pipelines import baseline
from glassbox.pipelines.demo_pipeline import DEFAULT_TRAINING, create_pipeline
from glassbox.pipelines.local_runner import PIPELINE_NAME
from glassbox.training.config import TrainingConfig

CONTAINER_COMMAND = ("python", "-m", "glassbox.kfp.tfx_entrypoint")
DATA_ROOT_PARAMETER = "data_root"
# The baseline resolvers KubeflowV2DagRunner compiles: the glassbox task querying KFP's ML Metadata
# (the default; open-source KFP runs it) and TFX's Resolver, whose tasks only Vertex AI Pipelines runs.
# (`baseline.LATEST_POLICY_MODEL` does not compile: "Only single Channel is supported".)
KFP_BASELINE_RESOLVERS = (baseline.ML_METADATA_QUERY, baseline.LATEST_BLESSED_MODEL_STRATEGY)
_YAML_SUFFIXES = (".yaml", ".yml")
_MINIO_SCHEME = "minio://"


class KubeflowError(GlassboxError):
    """Bad input to the KFP runner: an output path, a host, a run argument."""


def build_pipeline_spec(
    pipeline_root: str,
    data_root: Optional[str] = None,
    image: str = DEFAULT_IMAGE,
    beam_pipeline_args: Sequence[str] = (),
    serving_dir: Optional[str] = None,
    training: TrainingConfig = DEFAULT_TRAINING,
    eval_config: Optional[config_pb2.EvalConfig] = None,
    baseline_resolver: str = baseline.ML_METADATA_QUERY,
) -> pipeline_spec_pb2.PipelineSpec:
    """The demo pipeline as a KFP PipelineSpec (schema 2.1).

    Args:
      pipeline_root: where KFP puts the artifacts, the spec's defaultPipelineRoot (a run may
        override it): a file system the components' TensorFlow writes, e.g. gs://bucket/path.
      data_root: default of the `data_root` parameter; None makes it a required run argument.
      image: container image of every component (it must have glassbox installed).
      beam_pipeline_args: Beam options of every component (e.g. --runner=DataflowRunner ...).
      serving_dir: where the Pusher copies blessed models; default pipeline_root/serving.
      training: what the Trainer trains.
      eval_config: the Evaluator's `tfma.EvalConfig`; default the demo's.
      baseline_resolver: how the baseline is found, one of `KFP_BASELINE_RESOLVERS`.

    Raises:
      KubeflowError: a MinIO pipeline root, or a baseline resolver KFP cannot run.
    """
    check_pipeline_root(pipeline_root)
    if baseline_resolver not in KFP_BASELINE_RESOLVERS:
        raise KubeflowError(
            f"baseline resolver {baseline_resolver!r} does not compile for Kubeflow Pipelines; "
            f"use one of {', '.join(KFP_BASELINE_RESOLVERS)}"
        )
    pipeline = create_pipeline(
        PIPELINE_NAME,
        pipeline_root,
        data_types.RuntimeParameter(name=DATA_ROOT_PARAMETER, ptype=str),
        training=training,
        eval_config=eval_config,
        beam_pipeline_args=beam_pipeline_args,
        serving_dir=serving_dir,
        baseline_resolver=baseline_resolver,
    )
    config = kubeflow_v2_dag_runner.KubeflowV2DagRunnerConfig(
        default_image=image, default_commands=list(CONTAINER_COMMAND), use_pipeline_spec_2_1=True
    )
    job = kubeflow_v2_dag_runner.KubeflowV2DagRunner(config).run(
        pipeline,
        parameter_values={DATA_ROOT_PARAMETER: data_root} if data_root else None,
        write_out=False,
    )
    return _spec_with_runtime_config(job)


def check_pipeline_root(pipeline_root: str) -> None:
    """Refuses KFP's MinIO scheme, which no TensorFlow file system (TFX's I/O) reads."""
    if pipeline_root.startswith(_MINIO_SCHEME):
        raise KubeflowError(
            f"pipeline root {pipeline_root!r}: TFX components write artifacts with TensorFlow's file systems, "
            f"which have no {_MINIO_SCHEME}; use a gs:// bucket (or s3:// with tensorflow-io in the image)"
        )


def _spec_with_runtime_config(job: Dict[str, Any]) -> pipeline_spec_pb2.PipelineSpec:
    """The job's PipelineSpec, holding what the runner put in the job's runtimeConfig, which a
    pipeline YAML has no place for: the pipeline root and the parameters' defaults."""
    spec = json_format.ParseDict(job["pipelineSpec"], pipeline_spec_pb2.PipelineSpec())
    runtime_config = json_format.ParseDict(
        job["runtimeConfig"], pipeline_spec_pb2.PipelineJob.RuntimeConfig()
    )
    spec.default_pipeline_root = runtime_config.gcs_output_directory
    for name, value in runtime_config.parameter_values.items():
        parameter = spec.root.input_definitions.parameters[name]
        parameter.default_value.CopyFrom(value)
        parameter.is_optional = True
    return spec


def compile_pipeline(
    output_path: str, pipeline_root: str, **kwargs
) -> pipeline_spec_pb2.PipelineSpec:
    """Writes `build_pipeline_spec(pipeline_root, **kwargs)` to output_path (.yaml or .yml)."""
    if not output_path.endswith(_YAML_SUFFIXES):
        raise KubeflowError(f"output {output_path!r}: a KFP pipeline file ends in .yaml or .yml")
    spec = build_pipeline_spec(pipeline_root, **kwargs)
    os.makedirs(os.path.dirname(os.path.abspath(output_path)), exist_ok=True)
    pipeline_spec_builder.write_pipeline_spec_to_file(
        spec, None, pipeline_spec_pb2.PlatformSpec(), output_path
    )
    return spec


def submit_pipeline(
    package_path: str,
    host: str,
    arguments: Optional[Dict[str, Any]] = None,
    run_name: Optional[str] = None,
    experiment_name: Optional[str] = None,
    namespace: Optional[str] = None,
    pipeline_root: Optional[str] = None,
    service_account: Optional[str] = None,
) -> str:
    """Starts a run of the pipeline file on the KFP API server at host; returns the run's id."""
    import kfp

    if pipeline_root:
        check_pipeline_root(pipeline_root)
    if not os.path.isfile(package_path):
        raise KubeflowError(
            f"pipeline file {package_path!r} does not exist; write it with `glassbox kfp compile`"
        )
    client = kfp.Client(host=host, namespace=namespace) if namespace else kfp.Client(host=host)
    run = client.create_run_from_pipeline_package(
        package_path,
        arguments=arguments or {},
        run_name=run_name,
        experiment_name=experiment_name,
        namespace=namespace,
        pipeline_root=pipeline_root,
        service_account=service_account,
    )
    return run.run_id
