"""The pipeline's baseline: the latest blessed Model of earlier runs, found by one of four mechanisms:

- `GENUINE_LATEST_BLESSED_MODEL`: TFX's Resolver node with the glassbox
  `GenuineLatestBlessedModelStrategy` (the local runner's default): TFX's latest blessed Model,
  refused (the Evaluator and Validator then fail, naming why) when a blessing of it was not output
  by a validation of the pipeline, e.g. one forged in ML Metadata.
- `LATEST_BLESSED_MODEL_STRATEGY`: TFX's Resolver node with `LatestBlessedModelStrategy`, which
  takes any blessing. `KubeflowV2DagRunner` compiles it (this exact class only) into two resolver
  tasks with artifact queries, which Vertex AI Pipelines runs and open-source Kubeflow Pipelines
  (KFP) refuses.
- `LATEST_POLICY_MODEL`: TFX's `LatestPolicyModel` resolver op, which follows lineage from each
  Model through the input key `model` to a ModelBlessing with `blessed` = 1. Local runs only:
  `KubeflowV2DagRunner` does not compile it ("Only single Channel is supported").
- `ML_METADATA_QUERY`: the glassbox BaselineResolver, a container task querying KFP's ML Metadata
  (the KFP runner's default: open-source KFP runs it as any other task). On a first run it
  outputs a Model marked as no baseline, which the glassbox Evaluator and Validator take as none.
"""

from __future__ import annotations

from typing import List, Tuple

from tfx.dsl.components.base import base_node
from tfx.dsl.components.common.resolver import Resolver
from tfx.dsl.input_resolution import resolver_function
from tfx.dsl.input_resolution.ops import latest_policy_model_op, ops
from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import (
    LatestBlessedModelStrategy,
)
from tfx.types import channel, standard_artifacts

from glassbox import keys
from glassbox.components.baseline_resolver.blessed_model_strategy import (
    GenuineLatestBlessedModelStrategy,
)
from glassbox.components.baseline_resolver.component import BaselineResolver

GENUINE_LATEST_BLESSED_MODEL = "genuine_latest_blessed_model"
LATEST_BLESSED_MODEL_STRATEGY = "latest_blessed_model_strategy"
LATEST_POLICY_MODEL = "latest_policy_model"
ML_METADATA_QUERY = "ml_metadata_query"
RESOLVERS = (
    GENUINE_LATEST_BLESSED_MODEL,
    LATEST_BLESSED_MODEL_STRATEGY,
    LATEST_POLICY_MODEL,
    ML_METADATA_QUERY,
)
# The Resolver's and the BaselineResolver's node id.
RESOLVER_ID = "latest_blessed_model_resolver"


@resolver_function.resolver_function(
    output_type={
        keys.MODEL_KEY: standard_artifacts.Model,
        keys.MODEL_BLESSING_KEY: standard_artifacts.ModelBlessing,
    }
)
def latest_policy_model(models):
    """The latest Model blessed by an evaluator, and its ModelBlessing; nothing on a first run.

    tfx.v1 exposes this as `tfx.dsl.experimental.latest_policy_model`, which this project does not
    import (tfx.v1 pulls in TFDV), so it is built here from the same op.
    """
    return ops.LatestPolicyModel(
        models,
        policy=latest_policy_model_op.Policy.LATEST_EVALUATOR_BLESSED,
        raise_skip_signal=False,
    )


def latest_blessed_model(
    pipeline_name: str, resolver: str = GENUINE_LATEST_BLESSED_MODEL
) -> Tuple[List[base_node.BaseNode], channel.BaseChannel]:
    """The latest blessed Model's channel, and the nodes the pipeline needs for it.

    Args:
      pipeline_name: the pipeline's name (whose runs' blessings the ML Metadata query looks up).
      resolver: one of RESOLVERS.

    Raises:
      ValueError: resolver is not one of RESOLVERS.
    """
    models = channel.Channel(type=standard_artifacts.Model)
    if resolver in (GENUINE_LATEST_BLESSED_MODEL, LATEST_BLESSED_MODEL_STRATEGY):
        genuine = resolver == GENUINE_LATEST_BLESSED_MODEL
        node = Resolver(
            strategy_class=GenuineLatestBlessedModelStrategy
            if genuine
            else LatestBlessedModelStrategy,
            config={"pipeline_name": pipeline_name} if genuine else None,
            **{
                keys.MODEL_KEY: models,
                keys.MODEL_BLESSING_KEY: channel.Channel(type=standard_artifacts.ModelBlessing),
            },
        ).with_id(RESOLVER_ID)
        return [node], node.outputs[keys.MODEL_KEY]
    if resolver == LATEST_POLICY_MODEL:
        return [], latest_policy_model({keys.MODEL_KEY: models})[keys.MODEL_KEY]
    if resolver == ML_METADATA_QUERY:
        node = BaselineResolver(pipeline_name=pipeline_name).with_id(RESOLVER_ID)
        return [node], node.outputs[keys.MODEL_KEY]
    raise ValueError(f"baseline resolver must be one of {', '.join(RESOLVERS)}, got {resolver!r}")
