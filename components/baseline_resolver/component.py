"""The BaselineResolver: the pipeline's latest blessed Model, found in Kubeflow Pipelines' ML
Metadata by an ordinary container task, as a TFX component."""

from __future__ import annotations

from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from glassbox import keys
from glassbox.components.baseline_resolver import executor
from glassbox.components.baseline_resolver.kfp_metadata import check_pipeline_name


class BaselineResolverSpec(ComponentSpec):
    """Parameter and output of the BaselineResolver."""

    PARAMETERS = {
        keys.PIPELINE_NAME_KEY: ExecutionParameter(type=str),
    }
    INPUTS = {}
    OUTPUTS = {
        keys.MODEL_KEY: ChannelParameter(type=standard_artifacts.Model),
    }


class BaselineResolver(base_component.BaseComponent):
    """Outputs the Model of the pipeline's latest ModelBlessing with `blessed` = 1, as Kubeflow
    Pipelines (KFP) recorded them in its ML Metadata; open-source KFP runs it as any other task
    (it runs no resolver tasks, which TFX's Resolver compiles to).

    The output `model` is a copy of the blessed Model (KFP records no output outside the run's
    pipeline root), its source in custom properties; when nothing is blessed yet, a Model marked
    with `keys.NO_BASELINE_PROPERTY`, which the glassbox Evaluator and Validator take as no
    baseline. It reaches ML Metadata as `kfp_metadata.connection_config` says (on
    KFP, by the environment KFP gives every task). Under LocalDagRunner use TFX's Resolver
    (`glassbox.pipelines.baseline`).
    """

    SPEC_CLASS = BaselineResolverSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

    def __init__(self, pipeline_name: str):
        """Builds the component.

        Args:
          pipeline_name: the pipeline whose runs' blessings count (KFP's `system.Pipeline` context
            of that name: the compiled spec's pipelineInfo.name, TFX's pipeline_name).

        Raises:
          MetadataStoreError: an empty pipeline name, or one with quotes or backslashes.
        """
        check_pipeline_name(pipeline_name)
        super().__init__(
            spec=BaselineResolverSpec(
                pipeline_name=pipeline_name, model=types.Channel(type=standard_artifacts.Model)
            )
        )
